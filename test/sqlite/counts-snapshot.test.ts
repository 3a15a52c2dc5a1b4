// size() reads every count from one snapshot: while another process keeps moving jobs between
// states, the counts always add up to the jobs that exist.
import assert from "node:assert/strict";
import { test } from "node:test";
import { child, childTarget, fresh } from "../conformance/harness.js";
import { sqliteFileFixture } from "../conformance/index.js";

test("size() adds up while another process moves jobs between pending and reserved", {
  timeout: 120_000,
}, async (t) => {
  const { spool, target } = await fresh(sqliteFileFixture(), t);
  const q = spool.queue<number>("moving");
  // Many held jobs make the count of non-pending rows take a while: a wide window between
  // two separate reads, if there are two.
  for (let i = 0; i < 20; i++) await q.addBatch(Array.from({ length: 1000 }, (_, j) => i * 1000 + j));
  for (let i = 0; i < 20; i++) await q.reserveBatch(1000, { lease: 600_000 });
  await q.addBatch([1, 2, 3, 4, 5], { maxAttempts: 1_000_000 });
  const total = 20_005;
  const toggler = child(t, "toggle.ts", childTarget(target), "moving");
  await toggler.waitLine(/^toggling$/, 60_000);
  const wrong: string[] = [];
  for (let i = 0; i < 500 && wrong.length < 5; i++) {
    const size = await q.size();
    const sum = size.pending + size.delayed + size.reserved + size.completed + size.dead;
    if (size.total !== total || sum !== total) wrong.push(JSON.stringify(size));
  }
  toggler.kill("SIGKILL");
  assert.deepEqual(wrong, [], `every size() counts ${total} jobs`);
});
