// A worker on SQLite claims what its slots and the fixed prefetch ask for, never the
// demand-sized prefetch a remote store's round trip needs: its claims hold the thread, so the
// jobs claimed beyond that only wait in memory (worker-pace.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { T } from "../conformance/harness.js";
import { openTempSpool } from "../helpers/temp-spool.js";

test("a worker of quick jobs on SQLite claims at most its slots plus 112", T, async (t) => {
  const spool = await openTempSpool(t);
  const queue = spool.queue<number>("quick");
  const count = 6000;
  for (let i = 0; i < count; i += 1000) await queue.addBatch(Array.from({ length: 1000 }, (_, k) => i + k));

  const backend = queue.ctx.backend;
  const claim = backend.claim.bind(backend);
  const limits: number[] = [];
  backend.claim = (name, limit, ...rest) => {
    limits.push(limit);
    return claim(name, limit, ...rest);
  };
  let seen = 0;
  const worker = queue.process(
    () => {
      seen++;
    },
    { concurrency: 16 },
  );
  await new Promise<void>((resolve) => worker.once("drained", resolve));
  await worker.stop();

  assert.equal(seen, count);
  assert.ok(limits.length > 1, "several claims");
  assert.ok(Math.max(...limits) <= 16 + 112, `claims asked for ${Math.max(...limits)} at most`);
});
