// What a worker is given and tells: the queue it works, its handler's shape, its options
// (checked here, once, when `queue.process` makes it) and its events.
import { MAX_TIMER_MS } from "./clock.js";
import type { SpoolContext } from "./context.js";
import { SpoolError } from "./errors.js";
import type { HeldJobs } from "./held.js";
import type { Job, JobProgress } from "./types.js";
import {
  checkDuration,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPositiveDuration,
} from "./validate.js";

/** What a worker needs of its queue. Queue provides it; the worker never imports Queue. */
export interface WorkedQueue<T> {
  readonly name: string;
  /** The queue's lease (ms): the worker's, unless its options say otherwise. */
  readonly lease: number;
  readonly ctx: SpoolContext;
  /** Completions, failures and burials of held jobs: the very ones the queue's own use (held.ts). */
  readonly held: HeldJobs<T>;
  /** The queue's own `extend` (checked, lease-checked): a handler's `extend` goes through it. */
  extend(job: Job<T>, ms: number): Promise<void>;
  /**
   * The queue's own `progress` (checked, lease-checked), resolving with the value as stored: a
   * handler's `progress` goes through it.
   */
  storedProgress(job: Job<T>, value: JobProgress): Promise<JobProgress>;
  /** The results of job `id`'s completed dependencies, by id (a handler's `results`). */
  results(id: number): Promise<Record<number, unknown>>;
}

/** What a handler gets besides its job. */
export interface HandlerContext {
  /** Aborted on timeout, lost lease or a forced stop: stop work and return. */
  signal: AbortSignal;
  /** Pushes the lease out to now + `ms` (default: the worker's lease). Done automatically too. */
  extend(ms?: number): Promise<void>;
  /**
   * Stores the job's progress: a number 0–100 or a plain JSON object (at most 64 KiB as JSON).
   * Lease-checked like `extend`; the worker emits "progress" once it is stored.
   */
  progress(value: JobProgress): Promise<void>;
  /**
   * The results of the job's completed dependencies (AddOptions.dependsOn), by id: all of them
   * once it runs, since a job starts only when every one completed. Empty when it has none.
   */
  results(): Promise<Record<number, unknown>>;
}

export type WorkerHandler<T> = (job: Job<T>, context: HandlerContext) => unknown;

export interface WorkerOptions {
  /** Handlers running at once. @default 1 */
  concurrency?: number;
  /**
   * Reservation length in ms, renewed every third of it while the handler runs; at least
   * {@link MIN_WORKER_LEASE} (500) so a renewal has time to commit. Rounded up to whole ms.
   * @default the queue's lease (30 000)
   */
  lease?: number;
  /** ms a handler may run; past it `signal` aborts and the job fails with "timeout". */
  timeout?: number;
  /** ms between checks when no wake-up arrives (the fallback). @default 1000 */
  pollInterval?: number;
}

export interface WorkerEvents<T> {
  completed: [job: Job<T>, result: unknown];
  failed: [job: Job<T>, error: unknown, state: "pending" | "dead"];
  error: [error: unknown];
  drained: [];
  /** A handler's `ctx.progress(value)` was stored. */
  progress: [job: Job<T>, progress: JobProgress];
}

const WORKER_KEYS = ["concurrency", "lease", "timeout", "pollInterval"] as const;
/**
 * The shortest worker lease (ms). The heartbeat renews every third of the lease, so a renewal
 * has two thirds of it to commit; below this a busy database or event loop lets the lease run
 * out under a live handler and a second worker run the same job.
 */
const MIN_WORKER_LEASE = 500;

/** WorkerOptions after validation, defaults applied. */
interface ResolvedWorkerOptions {
  concurrency: number;
  lease: number;
  timeout: number | undefined;
  pollInterval: number;
}

/** Checks a worker's options; `queue` names the queue and gives its lease (the default). */
export function checkWorkerOptions(
  options: unknown,
  queue: { name: string; lease: number },
): ResolvedWorkerOptions {
  const o = checkObject(options, "worker options");
  checkKnownKeys(o, WORKER_KEYS, "worker");
  const concurrency = o.concurrency === undefined ? 1 : checkInteger(o.concurrency, "concurrency", 1);
  const lease = o.lease === undefined ? queue.lease : checkPositiveDuration(o.lease, "lease");
  if (lease < MIN_WORKER_LEASE) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `a worker's lease must be ≥ ${MIN_WORKER_LEASE} ms so its heartbeat can renew it in time, got ${lease}${o.lease === undefined ? ` (the lease of queue "${queue.name}")` : ""}`,
    );
  }
  const timeout = o.timeout === undefined ? undefined : checkPositiveDuration(o.timeout, "timeout");
  if (timeout !== undefined && timeout > MAX_TIMER_MS) {
    // A timer fires at most this far ahead: a longer timeout would fire early, not late.
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `timeout must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${timeout}`,
    );
  }
  const pollInterval =
    o.pollInterval === undefined ? 1000 : checkPositiveDuration(o.pollInterval, "pollInterval");
  return { concurrency, lease, timeout, pollInterval };
}

/** The timeout `stop` was given (ms), or undefined for none. */
export function checkStopOptions(options: unknown): number | undefined {
  const o = checkObject(options, "stop options");
  checkKnownKeys(o, ["timeout"], "stop");
  return o.timeout === undefined ? undefined : checkDuration(o.timeout, "timeout");
}
