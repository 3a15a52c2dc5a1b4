// What a Spool counts and times about its own work, for spool.metrics() and spool/prometheus:
// one QueueMeter per queue this process uses, reached directly by the code that does the work
// (queue.held.meter), so each event is a plain number increment and, for a run, two clock reads
// into a fixed-size histogram. No allocation, no async work: unused, it costs nothing visible.

import type { NewJob } from "../backend.js";
import { LatencyHistogram } from "./histogram.js";
import type { SpoolLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import type { TracedRow, Tracing } from "./tracing.js";

/**
 * Told every wait and run time as they are observed (spool/prometheus's histograms).
 * Times in ms.
 */
export interface LatencyObserver {
  wait(queue: string, ms: number): void;
  run(queue: string, ms: number): void;
}

/** This process's counts and times for one queue, since the Spool was opened. */
export class QueueMeter {
  /** Jobs this process added (a job deduplicated onto a live one by its key is not). */
  added = 0;
  /** Held jobs completed (by a worker or `queue.complete`). */
  completed = 0;
  /** Failed attempts (by a worker, `queue.fail`, or a payload that cannot be decoded). */
  failed = 0;
  /** Failed attempts that went back to pending for another try. */
  retried = 0;
  /** Failed attempts that made the job dead. */
  dead = 0;
  /** Completions, failures and renewals refused because the lease was lost. */
  leaseLost = 0;
  /** ms from when a job was due to when a worker started it. */
  readonly wait = new LatencyHistogram();
  /** ms a handler ran. */
  readonly run = new LatencyHistogram();

  constructor(
    readonly queue: string,
    private readonly observers: LatencyObserver[],
  ) {}

  /** `n` jobs written, as the `inserted` flags of an enqueue say (all of them without flags). */
  addedJobs(n: number, inserted?: readonly boolean[]): void {
    if (inserted === undefined || inserted.length === 0) {
      this.added += n;
      return;
    }
    for (let i = 0; i < n; i++) if (inserted[i] !== false) this.added++;
  }

  /** What the store made of a completion: done, or refused (counted when the lease was lost). */
  completion(outcome: string): void {
    if (outcome === "ok") this.completed++;
    else this.refused(outcome);
  }

  /** A completion or failure the store refused: counted when the lease was lost. */
  refused(outcome: string): void {
    if (outcome === "lease_lost") this.leaseLost++;
  }

  /** A failed attempt: retried, or dead. */
  failure(dead: boolean): void {
    this.failed++;
    if (dead) this.dead++;
    else this.retried++;
  }

  /** Whether this process did anything with the queue (a handle alone does not count). */
  get used(): boolean {
    return this.added + this.completed + this.failed + this.leaseLost + this.wait.count + this.run.count > 0;
  }

  /** A worker starts a job due at `runAt` (ms since the epoch); returns the run's start mark. */
  started(runAt: number): number {
    const ms = Date.now() - runAt;
    this.wait.observe(ms);
    for (const o of this.observers) o.wait(this.queue, Math.max(ms, 0));
    return performance.now();
  }

  /** A handler started at mark `started` settled; returns how long it ran (ms). */
  ran(started: number): number {
    const ms = performance.now() - started;
    this.run.observe(ms);
    for (const o of this.observers) o.run(this.queue, ms);
    return ms;
  }
}

/** One Spool's meters, logger and observers. */
export class Instruments {
  readonly meters = new Map<string, QueueMeter>();
  private readonly observers: LatencyObserver[] = [];
  /** Where the Spool logs what its workers and listeners only emitted before. */
  logger: SpoolLogger = silentLogger;

  /** OpenTelemetry, when @opentelemetry/api is installed (tracing.ts). */
  tracing: Tracing | null = null;

  /** Runs a worker's handler: as it is, or inside a consumer span when tracing is on. */
  call<J, C>(handler: (job: J, context: C) => unknown, job: J, context: C, row: TracedRow): unknown {
    const tracing = this.tracing;
    return tracing === null || !tracing.enabled
      ? handler(job, context)
      : tracing.process(handler, job, context, row);
  }

  /**
   * Adds jobs: `write` (a backend's enqueue of `jobs`) as it is, or inside a producer span the
   * jobs carry when tracing is on.
   */
  enqueue(queue: string, jobs: NewJob[], write: () => Promise<number[] | null>): Promise<number[] | null> {
    const tracing = this.tracing;
    if (tracing === null || !tracing.enabled) return write();
    return tracing.send(queue, jobs, write);
  }

  /** `enqueue` for an add done when `write` returns (addSync). */
  enqueueSync(queue: string, jobs: NewJob[], write: () => number[] | null): number[] | null {
    const tracing = this.tracing;
    if (tracing === null || !tracing.enabled) return write();
    return tracing.sendSync(queue, jobs, write);
  }

  /** The meter of `queue`, made on first use. */
  meter(queue: string): QueueMeter {
    let meter = this.meters.get(queue);
    if (meter === undefined) {
      meter = new QueueMeter(queue, this.observers);
      this.meters.set(queue, meter);
    }
    return meter;
  }

  /** Adds an observer of wait and run times; returns its removal. */
  observe(observer: LatencyObserver): () => void {
    this.observers.push(observer);
    return () => {
      const at = this.observers.indexOf(observer);
      if (at !== -1) this.observers.splice(at, 1);
    };
  }
}
