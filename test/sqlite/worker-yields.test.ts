// A worker whose handlers are synchronous must still let the event loop turn: on SQLite a claim
// and a handler's outcome both come back as microtasks, so the loop that starts one buffered
// job after another never reached the timers by itself. With 1.5 ms handlers it held the loop
// for seconds: the heartbeat could not renew, leases lapsed, jobs ran twice and went dead
// (hostile review of the prefetch change, rv/lease.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { T } from "../conformance/harness.js";
import { openTempSpool } from "../helpers/temp-spool.js";

/** Holds the thread for `ms`, as a CPU-bound handler does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

/**
 * Drains 1,200 jobs with `workers` workers of `concurrency` slots in this process, each handler
 * holding the thread 1.5 ms, on leases of 500 ms; answers the most handlers that ran in one
 * turn of the event loop, after checking that every job ran once and completed.
 */
async function drainSynchronously(
  t: { after: (fn: () => unknown) => void },
  workers: number,
  concurrency: number,
): Promise<number> {
  const spool = await openTempSpool(t);
  const queue = spool.queue<number>("cpu");
  const count = 1200;
  for (let i = 0; i < count; i += 600) await queue.addBatch(Array.from({ length: 600 }, (_, k) => i + k));

  // The event loop's turns, counted by a callback that queues itself for the next one.
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const runs = new Map<number, number>();
  let runsThisTurn = 0;
  let turnSeen = -1;
  let mostInOneTurn = 0;
  const errors: unknown[] = [];
  const started = Array.from({ length: workers }, () => {
    const worker = queue.process(
      (job) => {
        runs.set(job.payload, (runs.get(job.payload) ?? 0) + 1);
        if (turns !== turnSeen) {
          turnSeen = turns;
          runsThisTurn = 0;
        }
        mostInOneTurn = Math.max(mostInOneTurn, ++runsThisTurn);
        busy(1.5);
      },
      { concurrency, lease: 500 },
    );
    worker.on("error", (error) => errors.push(error));
    return worker;
  });
  await Promise.all(started.map((w) => new Promise<void>((resolve) => w.once("drained", resolve))));
  await Promise.all(started.map((w) => w.stop()));
  counting = false;

  assert.deepEqual(errors, []);
  assert.equal(runs.size, count);
  assert.deepEqual(
    [...runs.values()].filter((n) => n > 1),
    [],
    "no job ran twice",
  );
  assert.equal((await queue.size()).completed, count);
  return mostInOneTurn;
}

test("a worker of synchronous handlers lets the event loop turn, and its short leases hold", T, async (t) => {
  const most = await drainSynchronously(t, 1, 32);
  assert.ok(most <= 2 * 32, `${most} handlers ran in one turn of the event loop`);
});

test("six such workers in one process share the turn: leases hold, no job runs twice", T, async (t) => {
  const most = await drainSynchronously(t, 6, 16);
  assert.ok(most <= 2 * 16, `${most} handlers ran in one turn of the event loop`);
});
