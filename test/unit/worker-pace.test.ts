// The worker's pace without timers or a store: how much it prefetches and how long it sleeps.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WorkerPace } from "../../src/worker-pace.js";

describe("worker pace", () => {
  test("nothing is prefetched until handlers are known to be quick", () => {
    const pace = new WorkerPace(2, 1000, false);
    assert.equal(pace.prefetch(), 0, "no handler has run yet");
    pace.observe(0.5);
    assert.equal(pace.prefetch(), 16, "eight per slot");
    for (let i = 0; i < 20; i++) pace.observe(50);
    assert.equal(pace.prefetch(), 0, "slow handlers get none");
  });

  test("prefetch is capped at 112 however many slots", () => {
    const pace = new WorkerPace(100, 1000, false);
    pace.observe(0);
    assert.equal(pace.prefetch(), 112);
  });

  test("large payloads shrink the prefetch to about 1 MiB of them", () => {
    const pace = new WorkerPace(16, 1000, false);
    pace.observe(0.1);
    assert.equal(pace.prefetch(), 112, "small jobs: the count bounds");
    for (let i = 0; i < 30; i++) pace.observePayloads([{ payload: new Uint8Array(64 * 1024) }]);
    assert.equal(pace.prefetch(), 16, "64 KiB jobs: 16 of them");
    for (let i = 0; i < 30; i++) pace.observePayloads([{ payload: new Uint8Array(1024 * 1024) }]);
    assert.equal(pace.prefetch(), 1, "1 MiB jobs: one ahead");
    for (let i = 0; i < 30; i++) pace.observePayloads([{ payload: new Uint8Array(100 * 1024 * 1024) }]);
    assert.equal(pace.prefetch(), 0, "jobs larger than the bound: none ahead");
  });

  test("an idle worker sleeps until the next due job, at most the poll interval", () => {
    const pace = new WorkerPace(1, 1000, false);
    assert.equal(pace.idleWait(null), 1000, "nothing waiting (or unknown)");
    assert.equal(pace.idleWait(300), 300);
    assert.equal(pace.idleWait(5000), 1000);
  });

  test("a due job that was not claimed backs off, doubling, until work is found", () => {
    const pace = new WorkerPace(1, 100, false);
    assert.deepEqual(
      [0, 0, 0, 0, 0, 0, 0, 0].map(() => pace.idleWait(0)),
      [2, 4, 8, 16, 32, 64, 100, 100],
    );
    pace.found();
    assert.equal(pace.idleWait(0), 2, "a claim that found work resets the back-off");
    pace.idleWait(0);
    assert.equal(pace.idleWait(50), 50, "a job ahead resets it too");
    assert.equal(pace.idleWait(0), 2);
  });
});

describe("worker pace: prefetch sized to demand", () => {
  test("quick handlers behind a slow claim are prefetched what they run in two round trips, past 32", async () => {
    const pace = new WorkerPace(1, 1000, false);
    pace.observe(0.1); // 10 jobs a ms
    await timeClaimTaking(pace, 5); // a 5 ms round trip
    assert.equal(pace.prefetch(), 100, "10 a ms × 5 ms × 2");
  });

  test("the demand-sized prefetch has a ceiling, and slow handlers still get none", async () => {
    const pace = new WorkerPace(16, 1000, false);
    pace.observe(0);
    await timeClaimTaking(pace, 20);
    assert.equal(pace.prefetch(), 500);
    for (let i = 0; i < 40; i++) pace.observe(5000);
    assert.equal(pace.prefetch(), 0);
  });

  test("a store whose claims hold the thread: the demand-sized prefetch stops at the fixed ceiling", async () => {
    const local = new WorkerPace(16, 1000, true);
    local.observe(0);
    await timeClaimTaking(local, 20);
    assert.equal(local.prefetch(), 112, "quick handlers: the fixed prefetch, not 500");
    assert.equal(local.claimAhead(0), false, "nothing to cover: no claim ahead");
    for (let i = 0; i < 40; i++) local.observe(4);
    assert.equal(local.prefetch(), 112, "4 ms handlers behind a 20 ms claim (160 by demand): capped");
    const slow = new WorkerPace(16, 1000, true);
    slow.observe(10);
    await timeClaimTaking(slow, 1);
    assert.equal(slow.prefetch(), 3, "10 ms handlers: what they run in two round trips, still");
  });
});

describe("worker pace: claiming ahead", () => {
  test("the next claim goes out while the buffer still holds one round trip's work, only behind slow claims", async () => {
    const quickStore = new WorkerPace(4, 1000, false);
    quickStore.observe(0.5);
    // The clock is ours: on a busy machine a real µs claim has been measured at over 2 ms.
    await timeClaimTaking(quickStore, 0.05); // the fixed prefetch is the larger
    assert.equal(quickStore.claimAhead(0), false);

    const remote = new WorkerPace(1, 1000, false);
    remote.observe(0.1);
    await timeClaimTaking(remote, 5);
    assert.equal(remote.prefetch(), 100);
    assert.equal(remote.claimAhead(51), false, "more than a round trip's work still buffered");
    assert.equal(remote.claimAhead(50), true);
  });
});

/** Times one claim that takes exactly `ms` on a clock the test controls. */
async function timeClaimTaking(pace: WorkerPace, ms: number): Promise<void> {
  let now = 0;
  const realNow = performance.now;
  performance.now = () => now;
  try {
    await pace.timeClaim(async () => {
      now += ms;
      return [];
    });
  } finally {
    performance.now = realNow;
  }
}
