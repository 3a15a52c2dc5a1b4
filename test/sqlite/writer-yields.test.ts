// A caller awaiting one write after another must not hold the event loop: timers, I/O and a
// worker's heartbeat run between its commits (review: a loop of awaited adds froze the loop, a
// worker's lease lapsed meanwhile and another process ran its job a second time).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";

/** How many of `writes` ran before a callback queued for the event loop's next turn did. */
async function writesBeforeTurn(write: (i: number) => Promise<unknown>, writes: number): Promise<number> {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  for (let i = 0; i < writes; i++) {
    await write(i);
    if (turned) return i + 1;
  }
  return writes;
}

describe("sqlite: awaited writes in a loop let the event loop turn", () => {
  for (const durability of ["normal", "full"] as const) {
    test(`adds, reserves and completes one at a time (${durability})`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "spool-yield-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const spool = await Spool.open(join(dir, "q.db"), { durability });
      t.after(() => spool.close());
      const q = spool.queue("q");
      const adds = await writesBeforeTurn((i) => q.add(i), 500);
      assert.ok(adds <= 32, `the loop turned only after ${adds} adds`);
      const cycles = await writesBeforeTurn(async () => {
        const job = await q.reserve();
        assert.ok(job);
        await q.complete(job);
      }, 200);
      assert.ok(cycles <= 32, `the loop turned only after ${cycles} reserve+complete cycles`);
    });
  }
});
