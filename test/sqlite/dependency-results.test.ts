// A dependency's result is kept once, however many jobs depend on it: a 1 MB result with 100
// dependents used to be copied onto each of their links (100 MB, and a completion that held the
// write lock for seconds).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Spool } from "../../src/index.js";

test("a 1 MB result with 100 dependents is stored once, and each dependent reads it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-dep-results-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "jobs.db");
  const spool = await Spool.open(file, { durability: "off" });
  t.after(() => spool.close());
  const q = spool.queue("q", { retention: { completed: 0 } });
  const dep = await q.add("dep");
  const dependents = await q.addBatch(
    Array.from({ length: 100 }, (_, i) => i),
    { dependsOn: [dep] },
  );
  const job = await q.reserve();
  assert.equal(job?.id, dep);
  const big = Buffer.alloc(1 << 20, 7);
  await q.complete(job, big);
  const size = statSync(file).size + statSync(`${file}-wal`).size;
  assert.ok(size < 8 << 20, `the store holds ${size} bytes: the result was copied per dependent`);
  for (const id of [dependents[0], dependents[99]] as number[]) {
    const results = await q.results(id);
    assert.deepEqual(Object.keys(results), [String(dep)]);
    assert.ok(Buffer.isBuffer(results[dep]) && (results[dep] as Buffer).equals(big));
  }
});
