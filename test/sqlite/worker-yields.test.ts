// A worker whose handlers hold the thread must still let the event loop reach its timers: on
// SQLite a claim and a handler's outcome both come back as microtasks, so the loop that starts
// one buffered job after another never reached the timers by itself. With 1.5 ms handlers it
// held the loop for seconds: the heartbeat could not renew, leases lapsed, jobs ran twice and
// went dead (hostile review of the prefetch change, rv/lease.ts). Later reviews found the same
// through a round of 128 slots started at once, and through async handlers whose work comes
// after their first await (the start returned before the work, so the clock never saw it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { T } from "../conformance/harness.js";
import { openTempSpool } from "../helpers/temp-spool.js";

/** Holds the thread for `ms`, as a CPU-bound handler does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

interface Drain {
  workers: number;
  concurrency: number;
  jobs: number;
  /** How long each handler holds the thread. */
  holdMs: number;
  /** How many `await null` come before the handler's work (0: the work is in its call). */
  awaits: number;
}

/**
 * Drains `jobs` jobs with `workers` workers of `concurrency` slots in this process, on leases of
 * 500 ms; answers the most handlers that ran between two runs of the timers (when a heartbeat
 * can renew), after checking that every job ran once and completed.
 */
async function drain(t: { after: (fn: () => unknown) => void }, d: Drain): Promise<number> {
  const spool = await openTempSpool(t);
  const queue = spool.queue<number>("cpu");
  for (let i = 0; i < d.jobs; i += 600) {
    await queue.addBatch(Array.from({ length: Math.min(600, d.jobs - i) }, (_, k) => i + k));
  }

  // The runs of the timers phase, counted by a timer that sets itself again.
  let timerRuns = 0;
  let counting = true;
  const tick = () => {
    timerRuns++;
    if (counting) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const runs = new Map<number, number>();
  let runsSinceTimers = 0;
  let timerRunSeen = -1;
  let most = 0;
  const count = (payload: number) => {
    runs.set(payload, (runs.get(payload) ?? 0) + 1);
    if (timerRuns !== timerRunSeen) {
      timerRunSeen = timerRuns;
      runsSinceTimers = 0;
    }
    most = Math.max(most, ++runsSinceTimers);
    busy(d.holdMs);
  };
  const errors: unknown[] = [];
  const started = Array.from({ length: d.workers }, () => {
    const worker =
      d.awaits === 0
        ? queue.process((job) => count(job.payload), { concurrency: d.concurrency, lease: 500 })
        : queue.process(
            async (job) => {
              for (let k = 0; k < d.awaits; k++) await null;
              count(job.payload);
            },
            { concurrency: d.concurrency, lease: 500 },
          );
    worker.on("error", (error) => errors.push(error));
    return worker;
  });
  await Promise.all(started.map((w) => new Promise<void>((resolve) => w.once("drained", resolve))));
  await Promise.all(started.map((w) => w.stop()));
  counting = false;

  assert.deepEqual(errors, []);
  assert.equal(runs.size, d.jobs);
  assert.deepEqual(
    [...runs.values()].filter((n) => n > 1),
    [],
    "no job ran twice",
  );
  assert.equal((await queue.size()).completed, d.jobs);
  return most;
}

test("a worker of synchronous handlers lets the timers run, and its short leases hold", T, async (t) => {
  const most = await drain(t, { workers: 1, concurrency: 32, jobs: 1200, holdMs: 1.5, awaits: 0 });
  assert.ok(most <= 16, `${most} handlers ran between two runs of the timers`);
});

test("six such workers in one process share the turn: leases hold, no job runs twice", T, async (t) => {
  const most = await drain(t, { workers: 6, concurrency: 16, jobs: 1200, holdMs: 1.5, awaits: 0 });
  assert.ok(most <= 16, `${most} handlers ran between two runs of the timers`);
});

test("a worker of 128 slots does not start them all in one turn", T, async (t) => {
  // Each start is checked against the turn's clock, not only the round's first.
  const most = await drain(t, { workers: 1, concurrency: 128, jobs: 400, holdMs: 5, awaits: 0 });
  assert.ok(most <= 8, `${most} handlers ran between two runs of the timers`);
});

test("async handlers whose work comes after an await are counted in the turn", T, async (t) => {
  // The start returns at the handler's first await: the work runs later, as a microtask. The
  // worker lets those run before it checks the clock and starts the next job.
  const most = await drain(t, { workers: 4, concurrency: 32, jobs: 800, holdMs: 1.5, awaits: 1 });
  assert.ok(most <= 24, `${most} handlers ran between two runs of the timers`);
});

test("async handlers whose work comes after ten awaits are counted in the turn too", T, async (t) => {
  // One microtask's pause per start let only the first await through: the work after the
  // others ran after the clock was checked (hostile review: 10 workers × 128 held the loop 1 s).
  const most = await drain(t, { workers: 4, concurrency: 32, jobs: 800, holdMs: 1.5, awaits: 10 });
  assert.ok(most <= 24, `${most} handlers ran between two runs of the timers`);
});
