/*
 * Queue settings stored with the queue (issue 12, item 1): the retention a handle states is the
 * queue's for every process and every Spool; a handle that states none follows the stored one;
 * a Spool that only looks (default handles, stats, the dashboard) changes nothing.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { dashboard } from "../../src/dashboard/server.js";
import type { Spool } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";
import { type BackendFixture, type Db, fresh, waitFor } from "./harness.js";

const DAY = 24 * 3_600_000;
/** What the application states: more than the defaults (1 h completed, 14 days dead). */
const KEEP = { completed: 30 * DAY, dead: 90 * DAY };
/** How old the finished jobs look: past both defaults, within KEEP. */
const AGE = 20 * DAY;
/**
 * Long enough for a pre-fix build to show its pruning (it paced default handles at 60 s), so a
 * regression fails instead of timing out; a passing run waits a fraction of a second.
 */
const SLOW = { timeout: 120_000 } as const;

interface Opened {
  db: Db;
  /** Added to the SQLite clock, to finish jobs in the past. */
  skew: { ms: number };
  /** PostgreSQL keeps the database's time: jobs to move back once their maker is closed. */
  toBackdate: { ids: number[]; age: number }[];
}

/** A store whose SQLite clock can be set back, so finished jobs can be made to look old. */
async function open(b: BackendFixture, t: Parameters<typeof fresh>[1]): Promise<Opened> {
  const skew = { ms: 0 };
  const extra = (b.kind === "sqlite" ? { clock: () => Date.now() + skew.ms } : {}) as SpoolOptions;
  return { db: await fresh(b, t, extra), skew, toBackdate: [] };
}

/**
 * One completed and one dead job in `queue`, finished `age` ago: on SQLite made under a clock
 * set back, on PostgreSQL moved back by `backdate`.
 */
async function oldFinished(
  opened: Opened,
  spool: Spool,
  queue: string,
  age = AGE,
): Promise<[number, number]> {
  const q = spool.queue(queue);
  opened.skew.ms = -age;
  try {
    const [done, dead] = await q.addBatch([1, 2], { maxAttempts: 1 });
    await q.complete((await q.reserve())!, "ok");
    await q.fail((await q.reserve())!, "boom");
    opened.toBackdate.push({ ids: [done!, dead!], age });
    return [done!, dead!];
  } finally {
    opened.skew.ms = 0;
  }
}

/**
 * PostgreSQL: moves the jobs oldFinished made back by their age. Called once the Spool that
 * made them is closed (or protects them by a stored retention), so it cannot prune them first.
 */
async function backdate(b: BackendFixture, { db, toBackdate }: Opened): Promise<void> {
  if (b.kind !== "postgres") return;
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: db.target.target });
  await client.connect();
  try {
    for (const { ids, age } of toBackdate.splice(0)) {
      await client.query(
        `UPDATE "${db.target.options.schema}".jobs SET finished_at = finished_at - $2 * interval '1 millisecond'
          WHERE id = ANY($1)`,
        [ids, age],
      );
    }
  } finally {
    await client.end();
  }
}

async function states(spool: Spool, queue: string, ids: readonly number[]): Promise<(string | null)[]> {
  const q = spool.queue(queue);
  return Promise.all(ids.map(async (id) => (await q.get(id))?.state ?? null));
}

async function overview(handler: ReturnType<typeof dashboard>): Promise<number> {
  const { createServer } = await import("node:http");
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<number>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "/api/overview" }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      })
        .on("error", reject)
        .end();
    });
  } finally {
    server.close();
  }
}

export function queueSettings(b: BackendFixture): void {
  const persistentOnly = { skip: b.persistent ? false : "needs a second Spool on the same store" };

  describe("queue settings", () => {
    test(
      "a worker whose handles state no retention prunes by the stored retention, the defaults only where none is stored",
      SLOW,
      async (t) => {
        const opened = await open(b, t);
        const { db } = opened;
        db.spool.queue("kept", { retention: KEEP });
        const kept = await oldFinished(opened, db.spool, "kept");
        // Past KEEP too: their going shows the queue was pruned, and by what is stored.
        const ancient = await oldFinished(opened, db.spool, "kept", 100 * DAY);
        const plain = await oldFinished(opened, db.spool, "plain");
        // Another process would open its own Spool; :memory: has only this one.
        if (b.persistent) await db.spool.close();
        await backdate(b, opened);
        const other = b.persistent ? await db.reopen() : db.spool;
        const workers = ["kept", "plain"].map((name) => other.queue(name).process(async () => "ok"));
        t.after(() => Promise.all(workers.map((w) => w.stop())));
        const added = await other.queue("kept").add(3);
        await waitFor(
          "the jobs past the stored retention, and those of the queue without one past the defaults, to be pruned",
          async () =>
            (await states(other, "kept", ancient)).every((s) => s === null) &&
            (await states(other, "plain", plain)).every((s) => s === null),
          90_000,
          50,
        );
        assert.deepEqual(await states(other, "kept", kept), ["completed", "dead"], "nothing kept is lost");
        await waitFor(
          "the new job to complete",
          async () => (await states(other, "kept", [added]))[0] !== "pending",
        );
        assert.deepEqual(await states(other, "kept", [added]), ["completed"]);
      },
    );

    test("completed: 0 stored with the queue deletes on completion through a handle that states none", async (t) => {
      const { spool, reopen } = await fresh(b, t);
      spool.queue("once", { retention: { completed: 0 } });
      const other = b.persistent ? await reopen() : spool;
      if (b.persistent) await spool.close(); // the stated retention is stored by then
      const q = other.queue("once");
      const [manual, worked] = await q.addBatch([1, 2]);
      await q.complete((await q.reserve())!, "r");
      assert.equal(await q.get(manual!), null, "complete() follows the stored retention");
      const done = new Promise((resolve) => q.process(async () => "r").once("completed", resolve));
      await done;
      assert.equal(await q.get(worked!), null, "a worker follows the stored retention");
    });

    test("a Spool that states retention changes it for every other one", persistentOnly, async (t) => {
      const opened = await open(b, t);
      const { db } = opened;
      const first = db.spool.queue("shared", { retention: KEEP });
      const old = await oldFinished(opened, db.spool, "shared");
      await backdate(b, opened); // the stored KEEP protects them meanwhile
      const second = await db.reopen();
      second.queue("shared", { retention: { completed: 0, dead: 1000 } });
      await waitFor(
        "the old jobs to be pruned by the newly stored retention",
        async () => (await states(db.spool, "shared", old)).every((s) => s === null),
        30_000,
        50,
      );
      // The first Spool's own handle still states KEEP, but the store says otherwise now.
      await waitFor(
        "a completion in the first Spool to follow completed: 0",
        async () => {
          const id = await first.add(1);
          await first.complete((await first.reserve())!);
          return (await first.get(id)) === null;
        },
        30_000,
        100,
      );
    });

    test("a Spool that only looks (default handles, counts, lists, the dashboard) changes nothing", {
      ...SLOW,
      ...persistentOnly,
    }, async (t) => {
      const opened = await open(b, t);
      const { db } = opened;
      db.spool.queue("kept", { retention: KEEP });
      const kept = await oldFinished(opened, db.spool, "kept");
      const plain = await oldFinished(opened, db.spool, "plain");
      await db.spool.close();
      await backdate(b, opened);
      const viewer = await db.reopen();
      for (const name of await viewer.queues()) {
        const q = viewer.queue(name);
        await q.size();
        await q.list({ state: "dead" });
      }
      const handler = dashboard(viewer);
      t.after(() => handler.close());
      assert.equal(await overview(handler), 200);
      const passes = () => (viewer as unknown as { housekeepingPasses?: number }).housekeepingPasses ?? 0;
      const start = passes();
      await waitFor(
        "the viewer's housekeeping to run (or, before the fix, to prune)",
        async () => passes() >= start + 4 || (await states(viewer, "plain", plain)).includes(null),
        90_000,
        50,
      );
      assert.deepEqual(await states(viewer, "plain", plain), ["completed", "dead"], "not even the defaults");
      assert.deepEqual(await states(viewer, "kept", kept), ["completed", "dead"]);
    });

    test("stated retention reaches the store before close() resolves", persistentOnly, async (t) => {
      const { spool, reopen } = await fresh(b, t);
      spool.queue("brief", { retention: { completed: 0, dead: 5 } });
      await spool.close();
      const other = await reopen();
      const q = other.queue("brief");
      const id = await q.add(1);
      await q.complete((await q.reserve())!);
      assert.equal(await q.get(id), null);
    });
  });
}
