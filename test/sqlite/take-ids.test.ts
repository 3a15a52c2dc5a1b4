// Job ids past 2^53 − 1, the largest a JS number holds exactly. Only another writer of the file
// puts one there (a restore, a merge, an application's own insert), but then a rounded id names
// a neighbour: reviews proved a receive that removed or dead-lettered another queue's job, a
// receive stuck on an id near 2^63, and sends whose bodies went under another job's id. Spool
// now adds no job past that id (the add fails, nothing written), and a reserve or receive that
// meets one makes it dead, with the reason as its lastError, rejects once with STORAGE, and the
// next call goes on; nothing of another queue is touched.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
import { T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

const PAST = "9007199254740993"; // 2^53 + 1

/** A store whose rows `setup` moved with raw SQL, then Spool opened on it. */
async function storeWith(t: TestContext, seed: (spool: Spool) => Promise<void>, setup: string) {
  const dir = mkdtempSync(join(tmpdir(), "spool-take-ids-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ids.db");
  const first = await Spool.open(path);
  await seed(first);
  await first.close();
  const raw = openRawSqlite(path);
  raw.exec(setup);
  raw.close();
  const spool = await Spool.open(path);
  t.after(() => spool.close());
  return { spool, path, states: () => stateOf(path), lastErrors: () => deadErrors(path) };
}

/** queue/state of every row, by the id SQLite holds (as text: exact). */
function stateOf(path: string): string[] {
  const raw = openRawSqlite(path, { readonly: true });
  try {
    const rows = raw
      .prepare("SELECT CAST(id AS TEXT) AS id, queue, state FROM spool_jobs WHERE queue <> '' ORDER BY rowid")
      .all() as { id: string; queue: string; state: string }[];
    return rows.map((r) => `${r.id} ${r.queue} ${r.state}`);
  } finally {
    raw.close();
  }
}

/** The lastError of every dead job (read raw: node:sqlite reads no id past 2^53 at all). */
function deadErrors(path: string): string[] {
  const raw = openRawSqlite(path, { readonly: true });
  try {
    const rows = raw
      .prepare("SELECT last_error FROM spool_jobs WHERE state = 'dead' AND queue <> ''")
      .all() as {
      last_error: string;
    }[];
    return rows.map((r) => r.last_error);
  } finally {
    raw.close();
  }
}

async function rejectsStorage(call: Promise<unknown>, words: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof SpoolError);
    assert.equal(error.code, "STORAGE");
    assert.match(error.message, words);
    return true;
  });
}

test("no job is added past id 2^53 − 1: every add fails, nothing is written", T, async (t) => {
  const { spool, states } = await storeWith(
    t,
    async (s) => {
      await s.queue<string>("seed").add("seed");
    },
    `UPDATE spool_jobs SET id = ${PAST} WHERE queue = 'seed'`,
  );
  const [tx] = await spool.channel<string>("c");
  const queue = spool.queue<string>("q");
  const big = Buffer.alloc(5000, 1); // kept apart: its body is a second insert under the job's id
  const past = /2\^53/;
  await rejectsStorage(tx.send("a"), past);
  await rejectsStorage(queue.add("one", { key: "k" }), past);
  await rejectsStorage(spool.queue<Buffer>("b").add(big), past);
  await rejectsStorage(tx.sendBatch(["b", "c", "d"]), past);
  await rejectsStorage(queue.addBatch(Array.from({ length: 300 }, (_, i) => `${i}`)), past);
  assert.deepEqual(states(), [`${PAST} seed pending`]);
});

test(
  "a receive that meets an id past 2^53 − 1 makes that item dead, touches no other queue, and the next goes on",
  T,
  async (t) => {
    const { spool, states, lastErrors } = await storeWith(
      t,
      async (s) => {
        const [tx] = await s.channel<string>("c");
        await s.queue<string>("billing").add("invoice"); // 1
        await tx.send("bad"); // 2
        await tx.sendBatch(["a", "b"]); // 3, 4
        await tx.send("top"); // 5
      },
      `UPDATE spool_jobs SET id = 9007199254740992 WHERE id = 1;
       UPDATE spool_jobs SET id = ${PAST}, body = X'7b', run_at = 0 WHERE id = 2;
       UPDATE spool_jobs SET id = 9223372036854775807, run_at = 1 WHERE id = 5;`,
    );
    const [, rx] = await spool.channel<string>("c");
    await rejectsStorage(rx.recvBatch(10), /2\^53/);
    assert.deepEqual(await rx.recvBatch(10), ["a", "b"]);
    assert.deepEqual(await rx.recvBatch(10), []);
    assert.deepEqual(states(), [
      "9007199254740992 billing pending",
      `${PAST} c dead`,
      "9223372036854775807 c dead",
    ]);
    assert.deepEqual(await spool.queue("c").list({ state: "dead" }), [], "no id names them");
    const errors = lastErrors();
    assert.equal(errors.length, 2);
    for (const error of errors) assert.match(error, /2\^53/);
  },
);

test("a receive of one that meets such an id goes on after it too", T, async (t) => {
  const { spool, states } = await storeWith(
    t,
    async (s) => {
      const [tx] = await s.channel<string>("c");
      await tx.sendBatch(["x", "y"]);
    },
    `UPDATE spool_jobs SET id = 9223372036854775807, run_at = 0 WHERE id = 1`,
  );
  const [, rx] = await spool.channel<string>("c");
  // x's run time is moved earlier: the walk meets it first.
  await rejectsStorage(rx.recv(), /2\^53/);
  assert.equal(await rx.recv(), "y");
  assert.deepEqual(states(), ["9223372036854775807 c dead"]);
});

test("a reserve that meets an id past 2^53 − 1 makes it dead and the next one goes on", T, async (t) => {
  const { spool, states } = await storeWith(
    t,
    async (s) => {
      const queue = s.queue<string>("q");
      await queue.addBatch(["past-1", "ok-1", "ok-2", "past-2", "ok-3"]);
      await s.queue<string>("other").add("other");
    },
    `UPDATE spool_jobs SET id = ${PAST}, run_at = 0 WHERE id = 1;
     UPDATE spool_jobs SET id = 9007199254740995, run_at = 0 WHERE id = 4;
     UPDATE spool_jobs SET id = 9007199254740994 WHERE id = 6;`,
  );
  const queue = spool.queue<string>("q");
  await rejectsStorage(queue.reserve(), /2\^53/);
  const job = await queue.reserve();
  assert.equal(job?.payload, "ok-1");
  await queue.complete(job as NonNullable<typeof job>);
  const rest = await queue.reserveBatch(10);
  assert.deepEqual(
    rest.map((j) => j.payload),
    ["ok-2", "ok-3"],
  );
  const size = await queue.size();
  assert.equal(size.dead, 2);
  assert.ok(states().includes("9007199254740994 other pending"), "another queue's job stays");
});

test("at the last safe id, an add writes nothing at all: not a row it then takes back", T, async (t) => {
  const { spool, path, states } = await storeWith(
    t,
    async (s) => {
      await s.queue<string>("seed").add("seed");
    },
    "UPDATE spool_jobs SET id = 9007199254740991 WHERE queue = 'seed'",
  );
  // data_version moves when another connection commits: an add written and then deleted again
  // (two commits a third process's lock could come between) moves it too.
  const watcher = openRawSqlite(path, { readonly: true });
  t.after(() => watcher.close());
  const version = () =>
    (watcher.prepare("PRAGMA data_version").get() as { data_version: number }).data_version;
  const before = version();
  await rejectsStorage(spool.queue<string>("q").add("one"), /2\^53/);
  await rejectsStorage(spool.queue<string>("q").addBatch(["a", "b"]), /2\^53/);
  assert.equal(version(), before, "nothing was committed");
  assert.deepEqual(states(), ["9007199254740991 seed pending"]);
});

test(
  "ids below 1 are settled like ids past 2^53 − 1: dead, never listed, the queue goes on",
  T,
  async (t) => {
    const { spool, states } = await storeWith(
      t,
      async (s) => {
        await s.queue<string>("q").addBatch(["low", "zero", "ok", "held"]);
      },
      `UPDATE spool_jobs SET id = -9007199254740993, run_at = 0 WHERE id = 1;
     UPDATE spool_jobs SET id = 0, run_at = 0 WHERE id = 2;
     UPDATE spool_jobs SET key = 'k', id = -5 WHERE id = 4;`,
    );
    const queue = spool.queue<string>("q");
    await rejectsStorage(queue.reserveBatch(5), /2\^53/);
    assert.deepEqual(
      (await queue.reserveBatch(5)).map((j) => j.payload),
      ["ok"],
    );
    assert.deepEqual(states(), ["-9007199254740993 q dead", "-5 q dead", "0 q dead", "3 q reserved"]);
    assert.deepEqual(await queue.list({ state: "dead" }), [], "no id names them: counted, not listed");
    assert.equal((await queue.size()).dead, 3);
    assert.equal(await queue.retry(), 0, "no retry brings them back");
    assert.equal((await queue.size()).dead, 3);
  },
);

test(
  "a keyed add whose key a job with an id below 1 holds makes that job dead and is added",
  T,
  async (t) => {
    const { spool, states } = await storeWith(
      t,
      async (s) => {
        const queue = s.queue<string>("q");
        await queue.add("holder", { key: "k" });
        await queue.add("sync holder", { key: "s" });
        await s.queue<string>("f").add("flow holder", { key: "f" });
        await s.queue<string>("other").add("other"); // new ids go on after it
      },
      `UPDATE spool_jobs SET id = -5 WHERE id = 1;
     UPDATE spool_jobs SET id = 0 WHERE id = 2;
     UPDATE spool_jobs SET id = -9007199254740993 WHERE id = 3;`,
    );
    const queue = spool.queue<string>("q");
    const id = await queue.add("again", { key: "k" });
    assert.equal((await queue.get(id))?.payload, "again");
    const syncId = queue.addSync("sync again", { key: "s" });
    assert.equal((await queue.get(syncId))?.payload, "sync again");
    const flow = await spool.flow({
      queue: "p",
      payload: "parent",
      children: [{ queue: "f", payload: "child", options: { key: "f" } }],
    });
    const child = flow.children[0];
    assert.equal((await spool.queue<string>("f").get(child?.id ?? 0))?.payload, "child");
    const dead = states().filter((row) => row.endsWith(" dead"));
    assert.deepEqual(dead, ["-9007199254740993 f dead", "-5 q dead", "0 q dead"]);
  },
);
