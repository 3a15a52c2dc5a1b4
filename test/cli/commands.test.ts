// What each command prints, in tables and in --json, on a SQLite file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { spool, tempDir } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `t${++n}.db`);

/** A database with `dead` dead jobs (failed on their only attempt) and `pending` pending ones. */
async function withDeadJobs(db: string, dead: number, pending: number): Promise<number[]> {
  const s = await Spool.open(db);
  const q = s.queue("mail");
  const ids = await q.addBatch(
    Array.from({ length: dead }, (_, i) => ({ dead: i })),
    { maxAttempts: 1 },
  );
  for (let i = 0; i < dead; i++) {
    const job = await q.reserve();
    assert.ok(job);
    assert.equal(await q.fail(job, new Error(`smtp refused ${i}`)), "dead");
  }
  await q.addBatch(Array.from({ length: pending }, (_, i) => ({ pending: i })));
  await s.close();
  return ids;
}

describe("spool add", () => {
  test("adds one job from the argument and prints its id", async () => {
    const db = freshDb();
    assert.deepEqual(await spool(["add", db, "mail", '{"to":"ada"}']).then((r) => [r.code, r.stdout]), [
      0,
      "1\n",
    ]);
    const r = await spool(["add", db, "mail", '"urgent"', "--priority", "7", "--delay", "1h", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: 2, ids: [2] });
    const s = await Spool.open(db);
    const job = await s.queue("mail").get(2);
    await s.close();
    assert.equal(job?.priority, 7);
    assert.equal(job?.state, "delayed");
    assert.ok((job?.runAt.getTime() ?? 0) - Date.now() > 3_500_000);
  });

  test("adds one job per NDJSON line of stdin, skipping blank lines", async () => {
    const db = freshDb();
    const r = await spool(["add", db, "mail", "--json"], { input: '{"a":1}\n\n[2]\n"three"\nnull\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ids: [1, 2, 3, 4] });
    const s = await Spool.open(db);
    const jobs = await s.queue("mail").list({ state: "pending" });
    await s.close();
    assert.deepEqual(
      jobs.map((j) => j.payload),
      [{ a: 1 }, [2], "three", null],
    );
  });

  test("a key dedupes: the second add returns the first id", async () => {
    const db = freshDb();
    const first = await spool(["add", db, "mail", "1", "--key", "order-9"]);
    const second = await spool(["add", db, "mail", "2", "--key", "order-9"]);
    assert.equal(first.stdout, "1\n");
    assert.equal(second.stdout, "1\n");
  });

  test("a bad stdin line stops with exit 1, keeping the lines before it", async () => {
    const db = freshDb();
    const r = await spool(["add", db, "mail"], { input: "1\n2\nnot json\n4\n" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stdin line 3 is not JSON/);
    assert.match(r.stderr, /The 2 jobs before it were added/);
    assert.equal(r.stdout, "1\n2\n");
  });
});

describe("spool stats", () => {
  test("prints queues × states with the oldest pending age, and --json", async () => {
    const db = freshDb();
    await withDeadJobs(db, 2, 3);
    const s = await Spool.open(db);
    await s.queue("other").add("x", { delay: 60_000 });
    await s.close();
    const r = await spool(["stats", db]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /^QUEUE\s+WAITING\s+PENDING\s+DELAYED\s+RESERVED\s+COMPLETED\s+DEAD\s+TOTAL\s+OLDEST PENDING$/,
    );
    assert.match(lines[1] ?? "", /^mail\s+0\s+3\s+0\s+0\s+0\s+2\s+5\s+\d[\d.]*m?s$/);
    assert.match(lines[2] ?? "", /^other\s+0\s+0\s+1\s+0\s+0\s+0\s+1\s+-$/);
    assert.match(lines[3] ?? "", /^\(all\)\s+0\s+3\s+1\s+0\s+0\s+2\s+6\s+/);

    const j = await spool(["stats", db, "--json"]);
    assert.equal(j.code, 0);
    const doc = JSON.parse(j.stdout) as { queues: Record<string, Record<string, number | null>> };
    assert.deepEqual(Object.keys(doc.queues), ["mail", "other"]);
    const { oldestPendingMs, ...mail } = doc.queues.mail ?? {};
    assert.deepEqual(mail, {
      waiting: 0,
      pending: 3,
      delayed: 0,
      reserved: 0,
      completed: 0,
      dead: 2,
      total: 5,
      paused: false,
    });
    assert.equal(typeof oldestPendingMs, "number");
    assert.equal(doc.queues.other?.oldestPendingMs, null);
  });

  test("an empty database says there are no jobs", async () => {
    const db = freshDb();
    await (await Spool.open(db)).close();
    const r = await spool(["stats", db]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /no jobs yet/);
    assert.deepEqual(JSON.parse((await spool(["stats", db, "--json"])).stdout), { queues: {} });
  });
});

describe("spool list", () => {
  test("shows id, state, attempts, run time and a payload preview cut to the width", async () => {
    const db = freshDb();
    const s = await Spool.open(db);
    const q = s.queue("mail");
    await q.add({ text: "x".repeat(500) });
    await q.add(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]));
    await q.add("later", { delay: 60_000, priority: 3 });
    await s.close();
    const r = await spool(["list", db, "mail"], { env: { COLUMNS: "80" } });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^\s*ID\s+STATE\s+ATTEMPTS\s+PRIO\s+RUN AT\s+PAYLOAD$/);
    assert.match(lines[1] ?? "", /^\s*1\s+pending\s+0\/3\s+0\s+\S.*\{"text":"xxx+…$/);
    assert.match(lines[2] ?? "", /^\s*2\s+pending\s+0\/3\s+0\s+.*<6 B binary> de ad be ef 00 01$/);
    assert.match(lines[3] ?? "", /^\s*3\s+delayed\s+0\/3\s+3\s+in \d+s\s+"later"$/);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length} > 80: ${line}`);
  });

  test("--state, --limit, --after and --json", async () => {
    const db = freshDb();
    const dead = await withDeadJobs(db, 3, 2);
    const r = await spool(["list", db, "mail", "--state", "dead", "--limit", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const jobs = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      jobs.map((j) => j.id),
      dead.slice(0, 2),
    );
    const first = jobs[0] ?? {};
    assert.equal(first.state, "dead");
    assert.equal(first.lastError, "smtp refused 0");
    assert.deepEqual(first.payload, { dead: 0 });
    assert.equal(first.attempts, 1);
    assert.equal(first.maxAttempts, 1);
    for (const field of ["createdAt", "runAt", "finishedAt"]) {
      assert.ok(!Number.isNaN(Date.parse(String(first[field]))), field);
    }
    const next = await spool(["list", db, "mail", "--state", "dead", "--after", String(dead[1]), "--json"]);
    assert.deepEqual(
      (JSON.parse(next.stdout) as { id: number }[]).map((j) => j.id),
      [dead[2]],
    );
    const table = await spool(["list", db, "mail", "--state", "dead"]);
    assert.match(table.stdout, /LAST ERROR/);
    assert.match(table.stdout, /smtp refused 2/);
  });

  test("binary payloads are base64 in --json", async () => {
    const db = freshDb();
    const s = await Spool.open(db);
    await s.queue("bin").add(Buffer.from([1, 2, 3, 250]));
    await s.close();
    const [job] = JSON.parse((await spool(["list", db, "bin", "--json"])).stdout) as Record<
      string,
      unknown
    >[];
    assert.equal(job?.payload, "AQID+g==");
    assert.equal(job?.encoding, "base64");
  });

  test("an empty queue says so", async () => {
    const db = freshDb();
    await withDeadJobs(db, 0, 1);
    const r = await spool(["list", db, "mail", "--state", "dead"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "no dead jobs in queue mail\n");
    assert.deepEqual(JSON.parse((await spool(["list", db, "mail", "--state", "dead", "--json"])).stdout), []);
  });
});

describe("spool retry and purge", () => {
  test("retry by id and --all move dead jobs back to pending", async () => {
    const db = freshDb();
    const dead = await withDeadJobs(db, 3, 0);
    const one = await spool(["retry", db, "mail", String(dead[0])]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, "retried 1 job\n");
    const rest = await spool(["retry", db, "mail", "--all", "--json"]);
    assert.deepEqual(JSON.parse(rest.stdout), { retried: 2 });
    const none = await spool(["retry", db, "mail", "999"]);
    assert.match(none.stdout, /retried 0 jobs \(1 of the ids given were not dead jobs of mail\)/);
    const s = await Spool.open(db);
    const size = await s.queue("mail").size();
    await s.close();
    assert.equal(size.pending, 3);
    assert.equal(size.dead, 0);
  });

  test("purge deletes dead jobs; --older-than spares recent ones", async () => {
    const db = freshDb();
    await withDeadJobs(db, 2, 1);
    const spared = await spool(["purge", db, "mail", "--state", "dead", "--older-than", "1h", "--json"]);
    assert.equal(spared.code, 0, spared.stderr);
    assert.deepEqual(JSON.parse(spared.stdout), { purged: 0 });
    const r = await spool(["purge", db, "mail", "--state", "dead"]);
    assert.equal(r.stdout, "purged 2 dead jobs\n");
    const s = await Spool.open(db);
    const size = await s.queue("mail").size();
    await s.close();
    assert.deepEqual([size.dead, size.pending], [0, 1]);
  });
});
