/*
 * The worker's scheduling, without timing: a worker runs on a recording double of the backend
 * seam (over a `:memory:` store), and each test waits for what the double or the handlers
 * record, never for a guessed number of ms. Where a sleeping worker must not find work by
 * itself, its poll interval is an hour, so only the wake-up under test can have woken it.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { SpoolError } from "../../src/errors.js";
import type { Job } from "../../src/types.js";
import type { HandlerContext } from "../../src/worker-options.js";
import { clockPast, T, waitFor } from "../conformance/harness.js";
import { job } from "../helpers/new-job.js";
import { Gate, queueOn, RecordingBackend } from "./recording-backend.js";

const HOUR = 3_600_000;

/** Handlers that run until the test lets each one finish. */
class Handlers {
  readonly started: number[] = [];
  readonly signals = new Map<number, AbortSignal>();
  running = 0;
  maxRunning = 0;
  private readonly gates = new Map<number, Gate>();

  readonly handler = async (job: Job<unknown>, context: HandlerContext): Promise<void> => {
    this.started.push(job.id);
    this.signals.set(job.id, context.signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate(job.id).opened;
    } finally {
      this.running--;
    }
  };

  finish(id: number): void {
    this.gate(id).open();
  }

  finishAll(): void {
    for (const gate of this.gates.values()) gate.open();
  }

  private gate(id: number): Gate {
    let gate = this.gates.get(id);
    if (gate === undefined) {
      gate = new Gate();
      this.gates.set(id, gate);
    }
    return gate;
  }
}

async function setup(t: TestContext) {
  const backend = await RecordingBackend.open();
  const { queue, close } = queueOn<unknown>(backend);
  const handlers = new Handlers();
  t.after(async () => {
    handlers.finishAll();
    backend.holdClaims?.open();
    backend.holdCompletes?.open();
    await close();
  });
  /** Adds jobs under the seam: no in-process wake-up, as if another process had added them. */
  const addQuietly = async (n: number) =>
    (await backend.store.enqueue(
      "q",
      Array.from({ length: n }, (_, i) => job(i)),
    )) ?? [];
  return { backend, queue, handlers, addQuietly };
}

describe("worker scheduling", () => {
  test(
    "a worker claims one batch at a time, as many as its free slots, and runs at most its concurrency",
    T,
    async (t) => {
      const { backend, queue, handlers } = await setup(t);
      const ids = await queue.addBatch([1, 2, 3, 4, 5]);
      queue.process(handlers.handler, { concurrency: 3 });
      await waitFor("three handlers running", () => handlers.running === 3);
      // Before any handler has finished, nothing is prefetched: one claim, for the free slots.
      assert.deepEqual(backend.claims, [3]);
      assert.deepEqual(handlers.started, ids.slice(0, 3));
      handlers.finish(ids[0] as number);
      await waitFor("a fourth job started in the freed slot", () => handlers.started.length === 4);
      for (const id of ids) handlers.finish(id);
      await waitFor("every job completed", async () => (await queue.size()).completed === 5);
      assert.equal(handlers.maxRunning, 3);
      assert.equal(backend.maxClaimsInFlight, 1);
    },
  );

  test("the next claim does not wait for the previous job's completion to commit", T, async (t) => {
    const { backend, queue } = await setup(t);
    const [first, second] = await queue.addBatch(["a", "b"]);
    backend.holdCompletes = new Gate();
    const seen: number[] = [];
    let drained = false;
    const worker = queue.process((j) => {
      seen.push(j.id);
    });
    worker.on("drained", () => {
      drained = true;
    });
    await waitFor("the second job handled", () => seen.includes(second as number));
    assert.deepEqual(seen, [first, second]);
    assert.equal(backend.completesDone, 0, "both ran while the first completion was still held");
    await waitFor("both completions asked for", () => backend.completesAsked === 2);
    // The claim after the second job found nothing: the worker is idle, yet not drained.
    await waitFor(
      "an empty third claim answered",
      () => backend.claims.length === 3 && backend.claimsInFlight === 0,
    );
    assert.equal(drained, false, "drained waits for the completions to commit");
    backend.holdCompletes.open();
    await waitFor("drained", () => drained);
    assert.equal(backend.completesDone, 2);
    assert.equal((await queue.size()).completed, 2);
  });

  test("stop waits for running handlers, claims nothing more and hands nothing back", T, async (t) => {
    const { backend, queue, handlers } = await setup(t);
    const [a, b, c] = await queue.addBatch(["a", "b", "c"]);
    const worker = queue.process(handlers.handler, { concurrency: 2 });
    await waitFor("two handlers running", () => handlers.running === 2);
    const claims = backend.claims.length;
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    handlers.finish(a as number);
    await waitFor("the first job's completion", () => backend.completesDone === 1);
    assert.equal(stopped, false, "stop still waits for the other handler");
    assert.equal(handlers.running, 1);
    handlers.finish(b as number);
    await stopping;
    assert.equal(backend.completesDone, 2, "the last completion committed before stop resolved");
    assert.equal(backend.claims.length, claims, "no claim after stop");
    assert.deepEqual(backend.releases, []);
    const untouched = await queue.get(c as number);
    assert.equal(untouched?.state, "pending");
    assert.equal(untouched?.attempts, 0);
  });

  test("stop with timeout 0 aborts the handlers and hands their jobs back uncounted", T, async (t) => {
    const { backend, queue, handlers } = await setup(t);
    const ids = await queue.addBatch(["a", "b"]);
    const worker = queue.process(handlers.handler, { concurrency: 2 });
    await waitFor("two handlers running", () => handlers.running === 2);
    await worker.stop({ timeout: 0 });
    for (const id of ids) {
      const signal = handlers.signals.get(id);
      assert.ok(signal?.aborted, `handler of job ${id} aborted`);
      assert.ok(signal.reason instanceof SpoolError && signal.reason.code === "CLOSED");
      const back = await queue.get(id);
      assert.equal(back?.state, "pending");
      assert.equal(back?.attempts, 0);
    }
    assert.deepEqual(backend.releases, [{ ids, started: true }]);
    assert.equal(backend.completesAsked, 0);
  });

  test("another process's wake-up makes a sleeping worker claim", T, async (t) => {
    const { backend, queue, addQuietly } = await setup(t);
    const seen: number[] = [];
    queue.process((j) => void seen.push(j.id), { pollInterval: HOUR });
    await waitFor("the worker going to sleep", () => backend.nextDueInCalls === 1);
    const [one] = await addQuietly(1);
    backend.notifier.fire("q");
    await waitFor("the job woken for", () => seen.includes(one as number));
    await waitFor("the worker asleep again", () => backend.nextDueInCalls >= 2);
    const [two] = await addQuietly(1);
    backend.notifier.fire(null); // a change to some queue: every worker looks
    await waitFor("the job woken for by a wake-up naming no queue", () => seen.includes(two as number));
  });

  test("an add in this process wakes a sleeping worker", T, async (t) => {
    const { backend, queue } = await setup(t);
    const seen: number[] = [];
    queue.process((j) => void seen.push(j.id), { pollInterval: HOUR });
    await waitFor("the worker going to sleep", () => backend.nextDueInCalls === 1);
    const id = await queue.add("x");
    await waitFor("the added job handled", () => seen.includes(id));
  });

  // The store's idle check already answered "nothing due" when the job and its wake-up come:
  // only the wake-up, counted while the worker was busy, can stop it sleeping the hour.
  test("a wake-up that arrives between finding no work and going to sleep is not lost", T, async (t) => {
    const { backend, queue, addQuietly } = await setup(t);
    backend.holdNextDueIn = new Gate();
    const seen: number[] = [];
    queue.process((j) => void seen.push(j.id), { pollInterval: HOUR });
    await waitFor("the worker checking when work is due", () => backend.nextDueInCalls === 1);
    const [id] = await addQuietly(1);
    backend.notifier.fire("q");
    backend.holdNextDueIn.open();
    await waitFor("the job handled without a poll", () => seen.includes(id as number));
  });

  test("without any wake-up, polling finds the work", T, async (t) => {
    const { backend, queue, addQuietly } = await setup(t);
    const seen: number[] = [];
    queue.process((j) => void seen.push(j.id), { pollInterval: 20 });
    await waitFor("the worker idle", () => backend.nextDueInCalls >= 1);
    const [id] = await addQuietly(1);
    await waitFor("the job found by a poll", () => seen.includes(id as number));
    const claims = backend.claims.length;
    await waitFor("an idle worker polling on", () => backend.claims.length >= claims + 3);
  });

  // The worker sleeps until the job's run time, not the hour's poll. (Should the machine be so
  // slow that the job is already due at the first claim, it is simply claimed: never a false
  // failure.)
  test("a sleeping worker wakes for a delayed job when it falls due", T, async (t) => {
    const { backend, queue } = await setup(t);
    const [id] = (await backend.store.enqueue("q", [job("later", { delayMs: 50 })])) ?? [];
    const seen: number[] = [];
    queue.process((j) => void seen.push(j.id), { pollInterval: HOUR });
    await waitFor("the delayed job handled", () => seen.includes(id as number));
  });

  test("a claim that fails is reported, and the worker claims again", T, async (t) => {
    const { backend, queue, addQuietly } = await setup(t);
    // The job is there first: after a failed claim only the back-off's timer wakes the worker.
    const [id] = await addQuietly(1);
    backend.failNextClaim = new SpoolError("STORAGE", "disk gone for a moment");
    const errors: unknown[] = [];
    const seen: number[] = [];
    const worker = queue.process((j) => void seen.push(j.id), { pollInterval: HOUR });
    worker.on("error", (e) => errors.push(e));
    await waitFor("the job handled after the failed claim", () => seen.includes(id as number));
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as SpoolError).code, "STORAGE");
  });
});

describe("worker: claimed jobs whose lease ran out, or nearly, before they could start", () => {
  /** Holds the first claim's answer until `ms` after the store gave it; returns the runs seen. */
  async function slowFirstClaim(t: TestContext, lease: number, ms: number) {
    const { backend, queue } = await setup(t);
    const ids = await queue.addBatch([1, 2, 3]);
    const held = new Gate();
    backend.holdClaims = held;
    const runs: Array<{ id: number; attempts: number; leaseLeft: number }> = [];
    const errors: unknown[] = [];
    const worker = queue.process(
      (j) => {
        runs.push({ id: j.id, attempts: j.attempts, leaseLeft: j.leaseUntil.getTime() - Date.now() });
      },
      { concurrency: 3, lease },
    );
    worker.on("error", (e) => errors.push(e));
    await waitFor("the first claim taken from the store", () => backend.claimsAnswered === 1);
    // Its rows' leases ran from the store's claim, before this point.
    await clockPast(Date.now() + ms);
    backend.holdClaims = null;
    held.open();
    await waitFor("every job completed", async () => (await queue.size()).completed === 3);
    assert.deepEqual(
      runs.map((r) => r.id).sort((a, b) => a - b),
      ids,
      "each job ran exactly once",
    );
    for (const r of runs)
      assert.ok(r.leaseLeft > 0, `job ${r.id} started on a run-out lease (${r.leaseLeft} ms left)`);
    return { backend, runs, errors };
  }

  test(
    "a claim answered after its lease ran out starts none of its jobs: each runs once, later, on a live lease, and the worker says why",
    T,
    async (t) => {
      const { runs, errors } = await slowFirstClaim(t, 500, 500);
      // The lapsed claim counts as an attempt, as any lease that ran out does.
      for (const r of runs) assert.equal(r.attempts, 2, `job ${r.id}`);
      assert.ok(
        errors.some(
          (e) =>
            e instanceof SpoolError && e.code === "LEASE_LOST" && /lease of 500 ms ran out/.test(e.message),
        ),
        `reported: ${errors.map(String).join("; ")}`,
      );
    },
  );

  test(
    "a claim answered with under a third of its lease left renews it and starts its jobs: none goes back",
    T,
    async (t) => {
      // Just past two thirds of the lease: the renewal then has nearly 2 s to land, room a
      // loaded machine needs (with 3 s and 2.2 s it had 0.8 s, less the wait's own delay).
      const { backend, runs, errors } = await slowFirstClaim(t, 6000, 4050);
      for (const r of runs) assert.equal(r.attempts, 1, `job ${r.id}: run on its first claim`);
      assert.deepEqual(backend.releases, [], "nothing handed back");
      assert.deepEqual(errors, []);
    },
  );

  test(
    "a pause that hands the jobs back while their renewal is out is no lost lease: nothing is reported",
    T,
    async (t) => {
      const { backend, queue } = await setup(t);
      await queue.addBatch([1, 2, 3]);
      const claimed = new Gate();
      backend.holdClaims = claimed;
      const errors: unknown[] = [];
      const worker = queue.process(() => {}, { concurrency: 3, lease: 6000 });
      worker.on("error", (e) => errors.push(e));
      await waitFor("the first claim taken from the store", () => backend.claimsAnswered === 1);
      await clockPast(Date.now() + 4050); // under a third of the lease left: renewed before start
      const renewing = new Gate();
      backend.holdExtends = renewing;
      const asked = backend.extendsAsked;
      backend.holdClaims = null;
      claimed.open();
      await waitFor("the renewal sent", () => backend.extendsAsked > asked);
      await queue.pause(); // hands the buffered jobs back meanwhile
      backend.holdExtends = null;
      renewing.open();
      await queue.resume();
      await waitFor("every job completed", async () => (await queue.size()).completed === 3);
      assert.deepEqual(errors.map(String), []);
    },
  );
  test("after a claim found nothing, a worker with one free slot claims one job alone", T, async (t) => {
    const { backend, queue } = await setup(t);
    await queue.addBatch(Array.from({ length: 200 }, (_, i) => i));
    let drained = false;
    const seen: number[] = [];
    const worker = queue.process(
      (j) => {
        seen.push(j.id);
      },
      { concurrency: 1, pollInterval: HOUR },
    );
    worker.on("drained", () => {
      drained = true;
    });
    await waitFor("drained", () => drained);
    assert.ok(
      backend.claims.some((limit) => limit > 1),
      `quick handlers brought a prefetch: ${backend.claims.join(", ")}`,
    );
    const asked = backend.claims.length;
    const id = await queue.add(999); // wakes the idle worker
    await waitFor("the new job handled", () => seen.includes(id));
    assert.equal(
      backend.claims[asked],
      1,
      `claims after the wake-up: ${backend.claims.slice(asked).join(", ")}`,
    );
  });
});
