// export / import: NDJSON round trips of JSON and binary payloads, batches, and resuming.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { ndjson, spool, tempDir } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `t${++n}.db`);

const PAYLOADS: unknown[] = [
  { to: "ada@example.com", tags: ["a", "b"], nested: { n: 1.5, ok: true } },
  Buffer.from([0, 1, 2, 253, 254, 255]),
  "a string with \n a newline and ünïcödé",
  [1, 2, 3],
  null,
  42,
  Buffer.alloc(0),
  Buffer.from('{"looks":"like json"}'),
];

async function payloadsOf(db: string, queue: string): Promise<unknown[]> {
  const s = await Spool.open(db);
  const jobs = await s.queue(queue).list({ state: "pending", limit: 10_000 });
  await s.close();
  return jobs.map((j) => j.payload);
}

describe("spool export and import", () => {
  test("JSON and binary payloads survive a round trip, in order, with priority and key", async () => {
    const from = freshDb();
    const s = await Spool.open(from);
    const q = s.queue("mixed");
    for (const p of PAYLOADS) await q.add(p);
    await q.add({ urgent: true }, { priority: 9, key: "k1", maxAttempts: 5 });
    await s.close();

    const exported = await spool(["export", from, "mixed"]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stderr, "", "no progress when stderr is not a terminal");
    const lines = ndjson(exported.stdout);
    assert.equal(lines.length, PAYLOADS.length + 1);
    assert.deepEqual(lines[1], {
      ...lines[1],
      id: 2,
      queue: "mixed",
      state: "pending",
      payload: "AAEC/f7/",
      encoding: "base64",
    });
    assert.equal(lines[0]?.encoding, undefined);

    const to = freshDb();
    const imported = await spool(["import", to, "copy", "--json"], { input: exported.stdout });
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), {
      imported: PAYLOADS.length + 1,
      duplicates: 0,
      skipped: 0,
      lines: PAYLOADS.length + 1,
    });
    assert.equal(imported.stderr, "");

    const copied = await payloadsOf(to, "copy");
    // Priority 9 runs first but list is in id order: the import keeps the export's order.
    assert.deepEqual(copied, [...PAYLOADS, { urgent: true }]);
    assert.ok(Buffer.isBuffer(copied[1]));
    const t = await Spool.open(to);
    const urgent = (await t.queue("copy").list({ state: "pending" })).at(-1);
    await t.close();
    assert.deepEqual([urgent?.priority, urgent?.key, urgent?.maxAttempts], [9, "k1", 5]);
  });

  test("--state exports one state; imported jobs are new pending jobs", async () => {
    const from = freshDb();
    const s = await Spool.open(from);
    const q = s.queue("q");
    await q.add("dead one", { maxAttempts: 1 });
    await q.add("still pending");
    const job = await q.reserve();
    assert.ok(job);
    await q.fail(job, new Error("boom"));
    await s.close();
    const exported = await spool(["export", from, "q", "--state", "dead"]);
    const lines = ndjson(exported.stdout);
    assert.deepEqual(
      lines.map((l) => [l.state, l.payload, l.lastError]),
      [["dead", "dead one", "boom"]],
    );
    const to = freshDb();
    const r = await spool(["import", to, "q"], { input: exported.stdout });
    assert.equal(r.stdout, "imported 1 job into q\n");
    const t = await Spool.open(to);
    const size = await t.queue("q").size();
    await t.close();
    assert.deepEqual([size.pending, size.dead], [1, 0]);
  });

  test("imports large inputs in batches", async () => {
    const input = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ payload: { i } })).join("\n");
    const db = freshDb();
    const r = await spool(["import", db, "big", "--batch-size", "1000", "--json"], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { imported: number }).imported, 2500);
    const payloads = (await payloadsOf(db, "big")) as { i: number }[];
    assert.deepEqual(
      payloads.map((p) => p.i),
      Array.from({ length: 2500 }, (_, i) => i),
    );
  });

  test("a bad line stops the import after the lines before it; --skip resumes without duplicates", async () => {
    const good = (i: number) => JSON.stringify({ payload: i });
    const lines = [good(1), good(2), good(3), "{oops", good(5), good(6)];
    const db = freshDb();
    const r = await spool(["import", db, "q", "--batch-size", "2"], { input: `${lines.join("\n")}\n` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stdin line 4: not valid JSON/);
    assert.match(
      r.stderr,
      /3 jobs were imported; resume with: spool import .* q --batch-size 2 --skip 3 \(on the same input\)/,
    );
    assert.deepEqual(await payloadsOf(db, "q"), [1, 2, 3]);

    // Fixed the line; resume where it stopped.
    lines[3] = good(4);
    const resumed = await spool(["import", db, "q", "--skip", "3", "--json"], {
      input: `${lines.join("\n")}\n`,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(JSON.parse(resumed.stdout), { imported: 3, duplicates: 0, skipped: 3, lines: 6 });
    assert.deepEqual(await payloadsOf(db, "q"), [1, 2, 3, 4, 5, 6]);
  });

  test("a line that is not an export record is refused with a hint", async () => {
    const db = freshDb();
    const r = await spool(["import", db, "q"], { input: '{"to":"ada"}\n' });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /not an export record: expected an object with a "payload" field \(to add raw payloads use spool add\)/,
    );
  });

  test("export of a missing queue prints nothing and exits 0", async () => {
    const db = freshDb();
    await (await Spool.open(db)).close();
    const r = await spool(["export", db, "nothing"]);
    assert.deepEqual([r.code, r.stdout], [0, ""]);
  });
});
