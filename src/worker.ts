// The worker: claims jobs (several per transaction), runs up to `concurrency` handlers at once,
// keeps their leases alive, completes or fails them, and sleeps until a wake-up, the next
// delayed job, or the poll interval. Finished jobs' completions share the next claim's commit.
// A handler that blocks the event loop longer than its lease stops the heartbeat: the job may
// be reserved again elsewhere, and the late run's outcome is refused (LEASE_LOST) and dropped.

import { EventEmitter } from "node:events";
import type { ClaimBound, StoredJob } from "./backend.js";
import { MAX_TIMER_MS } from "./clock.js";
import { encodeResult } from "./codec.js";
import type { Stoppable } from "./context.js";
import { decodeError, leaseLostError, SpoolError, show } from "./errors.js";
import { nextTurn, turnOverdue } from "./event-loop-turn.js";
import { heldRef, rowHold } from "./tokens.js";
import type { Job, JobProgress } from "./types.js";
import { wholeMs } from "./validate.js";
import { claimJobs, WorkerClaims } from "./worker-claims.js";
import { HeldCompletions } from "./worker-completions.js";
import { emitSafely, reportError } from "./worker-events.js";
import { renewLeases } from "./worker-leases.js";
import {
  checkStopOptions,
  checkWorkerOptions,
  type WorkedQueue,
  type WorkerEvents,
  type WorkerHandler,
  type WorkerOptions,
} from "./worker-options.js";
import { WorkerPace } from "./worker-pace.js";
import { PauseWatch } from "./worker-pause.js";
import { handlerContext, LazyAbort } from "./worker-signal.js";

interface Running<T> {
  job: Job<T>;
  row: StoredJob;
  controller: LazyAbort;
  /** Set once the outcome must be discarded (timeout handled, lease lost, forced stop). */
  settled: boolean;
  /** Where the handler's own `extend` put the lease (this process's clock), if it did. */
  extendedUntil?: number;
  /** The per-job timeout; cleared once the outcome is settled, so it never outlives stop(). */
  timer?: NodeJS.Timeout | undefined;
}

const rowOf = <T>(entry: Running<T>) => entry.row;

/** What a started job's row holds in place of its stored bytes (see start). */
const RELEASED_PAYLOAD = new Uint8Array(0);

/**
 * How many microtasks a start waits for its handler to settle before it starts the next job
 * (see startRound): enough for ten or so awaits of settled values, async helpers included.
 */
const SETTLE_HOPS = 32;

export class Worker<T = unknown> extends EventEmitter<WorkerEvents<T>> implements Stoppable {
  readonly concurrency: number;
  private readonly lease: number;
  private readonly timeout: number | undefined;
  private readonly pollInterval: number;
  private readonly buffer: StoredJob[] = [];
  private readonly running = new Map<number, Running<T>>();
  private readonly writes = new Set<Promise<unknown>>();
  /** Rows of finished runs whose outcome is being written: the heartbeat keeps their leases. */
  private readonly finishing = new Set<StoredJob>();
  private stopping: Promise<void> | null = null;
  /** When a stopping worker gives up waiting for its handlers. */
  private deadline = Number.POSITIVE_INFINITY;
  /**
   * Counts wake-ups (a change to the queue, stop()). The loop notes it before each claim and a
   * sleep returns at once if it moved meanwhile: a wake-up during the claim is never lost.
   */
  private wakes = 0;
  private wake: (() => void) | null = null;
  /** The loop sleeps because its last claim found nothing (not a back-off after an error). */
  private idle = false;
  private drained = false;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private slotFreed: (() => void) | null = null;
  private readonly pace: WorkerPace;
  private readonly completions = new HeldCompletions();
  private readonly claims: WorkerClaims;
  private readonly pauses: PauseWatch;

  /** Not for users: `queue.process(handler, options)` makes a Worker. */
  constructor(
    private readonly queue: WorkedQueue<T>,
    private readonly handler: WorkerHandler<T>,
    options: WorkerOptions | undefined,
  ) {
    super();
    if (typeof handler !== "function") {
      throw new SpoolError("INVALID_ARGUMENT", `process needs a handler function, got ${show(handler)}`);
    }
    const o = checkWorkerOptions(options, queue);
    this.concurrency = o.concurrency;
    this.lease = o.lease;
    this.timeout = o.timeout;
    this.pollInterval = o.pollInterval;
    this.pace = new WorkerPace(o.concurrency, o.pollInterval, queue.ctx.backend.claimsHoldThread);
    const claim = (limit: number, bound?: ClaimBound) => claimJobs(queue, limit, this.lease, bound);
    this.claims = new WorkerClaims(this.pace, this.lease, claim, this.buffer, (e) => this.report(e), queue);
    this.unsubscribe = queue.ctx.onChange(queue.name, () => this.poke());
    const handBack = (rows: StoredJob[]) => this.track(this.handBack(rows, false));
    const stopping = () => this.stopping !== null;
    this.pauses = new PauseWatch(queue, this.buffer, this.claims, handBack, stopping, (e) => this.report(e));
    // Not unref'd: like a server, a running worker keeps its process alive until stop().
    // A renewal each tick, whether or not the last one answered: one stuck on a silent
    // connection must not stop the next (and a renewal never waits for a row lock: EXTEND_MANY).
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.min(MAX_TIMER_MS, this.lease / 3));
    queue.ctx.stoppables.add(this);
    this.loop = this.run();
  }

  /** True until stop() is called. */
  get isRunning(): boolean {
    return this.stopping === null;
  }

  private poke(): void {
    this.wakes++;
    this.wake?.();
  }

  /** Emits to the "error" listeners; a warning when there are none or when they throw. */
  private report(error: unknown, job?: { id: number; attempts: number }): void {
    reportError(this, this.queue.name, error, this.queue.ctx.instruments.logger, job);
  }

  /** Emits an event; a listener's throw goes to "error" instead of into the worker's loop. */
  private tell<K extends "completed" | "failed" | "drained" | "progress">(
    event: K,
    ...args: WorkerEvents<T>[K]
  ): void {
    // Most workers listen to none of these: no closure or argument array per job then.
    if (this.listenerCount(event) === 0) return;
    emitSafely(
      () => (this.emit as (event: K, ...args: WorkerEvents<T>[K]) => boolean)(event, ...args),
      (e) => this.report(e),
    );
  }

  private async run(): Promise<void> {
    while (this.stopping === null) {
      const free = this.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      if (this.buffer.length > 0) {
        // Handlers may be synchronous: the process lets the event loop turn every few ms.
        if (turnOverdue()) {
          await nextTurn();
          continue;
        }
        if (this.claims.anyLapsing(this.buffer, free, performance.now())) {
          await this.renewBeforeStart();
          continue;
        }
        await this.startRound(free);
        this.claims.maybeAhead();
        continue;
      }
      if (this.claims.inFlight) {
        await this.claims.settled();
        continue;
      }
      const seen = this.wakes;
      let rows: StoredJob[];
      // Finished jobs' completions first, so they share the claim's commit.
      this.completions.issue();
      try {
        rows = await this.claims.now(free);
      } catch (error) {
        if (this.queue.ctx.isClosed || (error as SpoolError).code === "CLOSED") return;
        this.report(error);
        await this.sleep(Math.min(this.pollInterval, 250), null); // a store error: back off whatever wakes
        continue;
      }
      this.buffer.push(...rows);
      if (this.stopping !== null) break;
      if (rows.length > 0) {
        this.drained = false;
        this.pace.found();
        continue;
      }
      if (this.running.size === 0 && !this.drained) {
        // "drained" means done: the last completions are committed before it is told; on a
        // paused queue ready jobs are left, and it waits for a round after the resume.
        while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
        this.drained = !(await this.pauses.isPaused());
        if (this.drained) this.tell("drained");
      }
      // A wake-up during the claim means there may be work already: no idle check, no sleep.
      if (this.wakes === seen) {
        const ms = await this.idleWait();
        this.idle = true;
        await this.sleep(ms, seen);
        this.idle = false;
      }
    }
    await this.claims.settled(); // its rows join the buffer that stop() hands back
  }

  /** How long to sleep now that a claim found nothing (worker-pace.ts). */
  private async idleWait(): Promise<number> {
    let due: number | null = null;
    try {
      due = await this.queue.ctx.backend.nextDueIn(this.queue.name);
    } catch {
      // Unknown: wait the poll interval, as when nothing is due.
    }
    return this.pace.idleWait(due);
  }

  /**
   * Sleeps `ms`, or until a wake-up or stop(). Returns at once when stopping, or when a wake-up
   * came in since the loop noted `seen` (null: only a wake-up during the sleep counts).
   */
  private sleep(ms: number, seen: number | null): Promise<void> {
    if (this.stopping !== null || (seen !== null && this.wakes !== seen)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /**
   * Starts up to `free` buffered jobs, one at a time, until the turn's clock runs out. After each
   * start the loop pauses until the handler settles or has waited SETTLE_HOPS microtasks: work
   * after an `await` of a settled value (`await null`, a cached promise, an async helper that
   * returns at once) runs as microtasks after the start has returned, and the clock must count
   * it before the next start. One pause let only the first such await through: 10 workers of
   * 128 handlers with ten awaits held the loop a second (hostile reviews). A handler that waits
   * on real I/O costs those few hops per start and no more.
   */
  private async startRound(free: number): Promise<void> {
    for (let left = free; left > 0; left--) {
      const row = this.buffer.shift();
      if (row === undefined) return;
      const entry = this.start(row);
      let hops = 0;
      do await undefined;
      while (entry !== null && !entry.settled && ++hops < SETTLE_HOPS);
      if (this.stopping !== null || turnOverdue()) return;
    }
  }

  /** Starts a buffered job's handler; null when the job cannot start (expired, undecodable). */
  private start(row: StoredJob): Running<T> | null {
    if (this.claims.expired(row)) {
      // Its ttl ran out while it waited here: back, unstarted, for the store to make it dead.
      this.track(this.handBack([row], false));
      return null;
    }
    let job: Job<T>;
    try {
      job = this.queue.held.toJob(row);
      // The stored bytes are not read again once decoded (what the job needs from here on is
      // its id, token and attempt), yet the row lives until the completion commits: let the
      // bytes go now, while young. Kept, 1 MB payloads waited for a full collection and a drain
      // at concurrency 1 peaked ~50 MB higher (186 MB against 136 MB).
      row.payload = RELEASED_PAYLOAD;
    } catch (cause) {
      this.track(this.queue.held.bury(row, cause).catch((e: unknown) => this.report(e)));
      this.report(decodeError(this.queue.name, row.id, cause));
      return null;
    }
    const entry: Running<T> = { job, row, controller: new LazyAbort(), settled: false };
    // This worker took the job again: its earlier run lost the lease (a stalled loop), and is
    // now a stale holder like any other. Told so, not left running out of the heartbeat's sight.
    const earlier = this.running.get(row.id);
    if (earlier !== undefined) this.loseLease(earlier);
    this.running.set(row.id, entry);
    const context = handlerContext(
      entry.controller,
      async (ms?: number) => {
        const started = Date.now();
        await this.queue.extend(job, ms ?? this.lease);
        // Measured from before the call on this process's clock: never later than the store's.
        entry.extendedUntil = started + wholeMs(ms ?? this.lease);
      },
      async (value: JobProgress) => {
        this.tell("progress", job, await this.queue.storedProgress(job, value));
      },
      () => this.queue.results(job.id),
    );
    // The timeout is at most MAX_TIMER_MS (checked when the worker was made).
    if (this.timeout !== undefined) entry.timer = setTimeout(() => this.onTimeout(entry), this.timeout);
    const started = this.queue.held.meter.started(row.runAt);
    let outcome: Promise<unknown>;
    try {
      outcome = Promise.resolve(this.queue.ctx.instruments.call(this.handler, job, context, row));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => {
        this.pace.observe(this.queue.held.meter.ran(started));
        clearTimeout(entry.timer);
        this.finish(entry, () => this.succeed(entry, result));
      },
      (error: unknown) => {
        this.pace.observe(this.queue.held.meter.ran(started));
        clearTimeout(entry.timer);
        this.finish(entry, () => this.failJob(entry, error));
      },
    );
    return entry;
  }

  /** Frees the slot at once; the outcome's write goes on in the background, tracked for stop(). */
  private finish(entry: Running<T>, write: () => Promise<void>): void {
    if (this.running.get(entry.row.id) === entry) this.running.delete(entry.row.id);
    if (!entry.settled) {
      entry.settled = true;
      const { row } = entry;
      this.finishing.add(row);
      this.track(write(), row);
    }
    this.slotFreed?.();
    this.slotFreed = null;
    // The last claim found nothing while this handler ran: the loop claims once more and says
    // "drained" now, not when its idle sleep ends. Counted as a wake-up, so one that lands
    // before the sleep begins (during nextDueIn) is not lost; only the idle sleep is cut short.
    if (this.running.size === 0 && !this.drained) {
      this.wakes++;
      if (this.idle) this.wake?.();
    }
  }

  private onTimeout(entry: Running<T>): void {
    entry.timer = undefined;
    if (entry.settled) return;
    const error = new Error("timeout");
    entry.controller.abort(error);
    this.finish(entry, () => this.failJob(entry, error));
  }

  /** Tracks a write for stop(); `finished`: the row of the run whose outcome it writes. */
  private track<W extends Promise<unknown>>(write: W, finished?: StoredJob): W {
    this.writes.add(write);
    void write.finally(() => {
      this.writes.delete(write);
      if (finished !== undefined) this.finishing.delete(finished);
    });
    return write;
  }

  private async succeed(entry: Running<T>, result: unknown): Promise<void> {
    const { job } = entry;
    let stored: ReturnType<typeof encodeResult>;
    try {
      stored = encodeResult(result);
    } catch (error) {
      return this.failJob(entry, error);
    }
    try {
      const outcome = await this.completions.hold(() =>
        this.queue.held.complete(job.id, rowHold(entry.row), stored),
      );
      if (outcome !== "ok") return this.report(leaseLostError(this.queue.name, job.id, "complete"), job);
      this.tell("completed", job, result);
    } catch (error) {
      this.report(error, job);
    }
  }

  private async failJob(entry: Running<T>, error: unknown): Promise<void> {
    const { job, row } = entry;
    try {
      const { outcome, state } = await this.queue.held.fail(row, rowHold(row), error);
      if (outcome !== "ok") return this.report(leaseLostError(this.queue.name, job.id, "fail"), job);
      this.tell("failed", job, error, state);
    } catch (storeError) {
      this.report(storeError, job);
    }
  }

  /** The heartbeat: extends every held lease; a lost one aborts its handler. */
  private renewLeases(): Promise<StoredJob[]> {
    this.pauses.maybe(); // a lost signal costs at most a heartbeat's wait

    const lose = (entry: Running<T>) => this.loseLease(entry);
    const renewed = (rows: StoredJob[], sent: number) => this.claims.renewed(rows, sent);
    return renewLeases(
      this.queue,
      this.lease,
      this.running,
      this.buffer,
      this.finishing,
      lose,
      (e) => this.report(e),
      renewed,
    );
  }

  /** A run whose lease was lost: its outcome is discarded and its handler told to stop. */
  private loseLease(entry: Running<T>): void {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    const lostLease = leaseLostError(this.queue.name, entry.job.id, "renew the lease of");
    entry.controller.abort(lostLease);
    this.queue.held.meter.leaseLost++;
    this.report(lostLease, entry.job);
  }

  /**
   * Takes no new job and waits for running handlers. Past `timeout` ms their signal is aborted
   * and their jobs go back to pending at once, the interrupted attempt not counted. Calling it
   * again with a shorter timeout (or 0) cuts the wait of an earlier call short.
   *
   * A handler must not await its own worker's `stop()` without a timeout: stop waits for that
   * very handler. Call it without awaiting (`void worker.stop()`), or give a timeout.
   */
  stop(options?: { timeout?: number }): Promise<void> {
    let timeout: number | undefined;
    try {
      timeout = checkStopOptions(options);
    } catch (error) {
      // A promise-returning call reports a bad argument as a rejection, never a throw.
      return Promise.reject(error);
    }
    // A later stop with a shorter timeout (a second Ctrl-C) shortens the wait of the first.
    if (timeout !== undefined) this.deadline = Math.min(this.deadline, Date.now() + timeout);
    this.slotFreed?.();
    // The heartbeat stops with the worker even if shutting down fails midway.
    this.stopping ??= this.shutdown().finally(() => clearInterval(this.heartbeat));
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.wakes++;
    this.wake?.();
    this.slotFreed?.();
    this.unsubscribe();
    await this.loop.catch((e: unknown) => this.report(e));
    await this.pauses.close();
    await this.handBack(this.buffer.splice(0), false);
    await this.waitForHandlers();
    const interrupted = [...this.running.values()].filter((e) => !e.settled);
    for (const entry of interrupted) {
      entry.settled = true;
      entry.controller.abort(new SpoolError("CLOSED", "the worker was stopped before this job finished"));
    }
    // A handler that ignores its signal must not keep the process alive through its timeout.
    for (const entry of this.running.values()) clearTimeout(entry.timer);
    await this.handBack(interrupted.map(rowOf), true);
    clearInterval(this.heartbeat);
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
    this.queue.ctx.stoppables.delete(this);
  }

  /**
   * Before any buffered job starts on a lease about to run out (a claim slower than a third of
   * the lease: large payloads, a busy store), the buffer's leases are renewed, as the heartbeat
   * would. A job whose lease the store no longer holds is dropped and reported, never started:
   * another worker may hold it (its lease was shorter than the time its claim took). Rows the
   * renewal could not reach (a store error) go back unstarted, their attempt not counted.
   */
  private async renewBeforeStart(): Promise<void> {
    const lost = await this.renewLeases();
    if (lost[0] !== undefined) {
      const error = leaseLostError(this.queue.name, lost[0].id, "start");
      error.message += `: ${lost.length} claimed job(s) reached this worker after their lease of ${this.lease} ms ran out; give the worker a lease longer than a claim takes`;
      this.report(error);
    }
    const now = performance.now();
    const lapsing = this.buffer.filter((row) => this.claims.lapsing(row, now));
    if (lapsing.length === 0) return;
    for (const row of lapsing) this.buffer.splice(this.buffer.indexOf(row), 1);
    this.track(this.handBack(lapsing, false));
  }

  /** Jobs back to pending (Backend.release); this process's other workers may take them now. */
  private async handBack(rows: readonly StoredJob[], started: boolean): Promise<void> {
    if (rows.length === 0) return;
    const back = this.queue.ctx.backend.release(this.queue.name, rows.map(heldRef), started);
    await back.catch((e: unknown) => this.report(e));
    this.queue.ctx.signal(this.queue.name);
  }

  private async waitForHandlers(): Promise<void> {
    while ([...this.running.values()].some((e) => !e.settled) && Date.now() < this.deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(50, Math.max(0, this.deadline - Date.now())));
        this.slotFreed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
