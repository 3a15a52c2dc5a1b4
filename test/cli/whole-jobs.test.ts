// `export` and `list --json` read whole rows in runs (src/cli/whole-jobs.ts): every job once,
// in id order, reading no payload it does not keep (review: a run read `count` rows of every
// state and dropped the rest, about twice the bytes with two states), and a job that moves to
// another state meanwhile is still written once.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { StoredJob } from "../../src/backend.js";
import { wholeJobs } from "../../src/cli/whole-jobs.js";
import { type JobState, Spool } from "../../src/index.js";

const MB = 1024 * 1024;
const STATES: JobState[] = ["pending", "delayed", "reserved", "completed", "dead"];

test("whole jobs of mixed states are read once each, no payload read twice", async (t) => {
  const spool = await Spool.open(":memory:");
  t.after(() => spool.close());
  const q = spool.queue("mixed");
  for (let i = 0; i < 12; i++) await q.add(Buffer.alloc(3 * MB, i), i % 2 ? { delay: 3_600_000 } : {});
  let bytesRead = 0;
  const list = q.listPreviews.bind(q);
  q.listPreviews = async (options, preview) => {
    const rows = await list(options, preview);
    for (const row of rows) bytesRead += row.payload.byteLength;
    return rows;
  };
  const seen: number[] = [];
  for await (const job of wholeJobs(q, STATES, 0)) seen.push(job.id);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
  assert.equal(new Set(seen).size, 12);
  assert.ok(bytesRead <= 12 * 3 * MB, `read ${Math.round(bytesRead / MB)} MB of payload to keep 36 MB`);
});

test("a job that changes state between the preview and the whole read is written once", async (t) => {
  const spool = await Spool.open(":memory:");
  t.after(() => spool.close());
  const q = spool.queue("moving");
  const ids = await q.addBatch([1, 2, 3, 4]);
  const list = q.listPreviews.bind(q);
  let moved = false;
  q.listPreviews = async (options, preview) => {
    // After the preview page (preview 0), the first job is reserved before the whole rows are read.
    if (preview > 0 && !moved) {
      moved = true;
      const job = await q.reserve();
      assert.equal(job?.id, ids[0]);
    }
    return list(options, preview);
  };
  const seen: StoredJob[] = [];
  for await (const job of wholeJobs(q, STATES, 0)) seen.push(job);
  assert.deepEqual(
    seen.map((j) => j.id),
    ids,
  );
  assert.equal(seen[0]?.state, "reserved");
});
