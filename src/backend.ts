/*
 * The one seam between the core (meaning, policy) and a storage engine. A backend performs one
 * named, atomic job transition per call and decides no policy: the core computes retry delays,
 * dead-or-pending, retention and codecs, and passes durations, never its own clock, so a
 * backend that serves many hosts (PostgreSQL) can measure time on the database's clock.
 *
 * Every method may reject with a SpoolError: BUSY when the store stayed locked past the busy
 * timeout, STORAGE for I/O, full disk, corruption or a lost connection, CLOSED after close().
 */
import type { Clock } from "./clock.js";
import type { Durability, JobState, QueueSize } from "./types.js";

/** What `Spool.open` hands a backend factory, defaults already applied. */
export interface BackendOptions {
  durability: Durability;
  busyTimeout: number;
  fileMode: number;
  /** PostgreSQL only: the schema holding Spool's tables. */
  schema: string;
  crossProcessWakeups: boolean;
  /** false: refuse (STORAGE) a store that is not already a Spool database, writing nothing. */
  create: boolean;
  /** SQLite only (one machine): the clock leases and run times are measured on. */
  clock: Clock;
}

/** Each backend module exports one: `openSqliteBackend`, `openPostgresBackend`. */
export type BackendFactory = (target: string, options: BackendOptions) => Promise<Backend>;

/** How a payload's bytes were produced, so the default codec can return Buffers as Buffers. */
export const PayloadFormat = { Json: 0, Bytes: 1, Custom: 2 } as const;
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat];

/** A job as stored. Times are ms since the epoch on the backend's clock. */
export interface StoredJob {
  id: number;
  queue: string;
  /** The stored state; a pending job whose run time is ahead is reported as `delayed`. */
  state: JobState;
  payload: Uint8Array;
  format: PayloadFormat;
  priority: number;
  attempts: number;
  maxAttempts: number;
  key: string | null;
  /** JSON of the job's stored backoff policy, or null for the queue's. */
  backoff: string | null;
  createdAt: number;
  runAt: number;
  leaseUntil: number | null;
  finishedAt: number | null;
  lastError: string | null;
  result: Uint8Array | null;
  resultFormat: PayloadFormat | null;
  /** Set by a `list` with `previewBytes`: the full sizes of what it cut (bytes; the error in characters). */
  sizes?: { payload: number; result: number | null; lastError: number | null };
}

/** A job to insert. Exactly one of `delayMs` (from the backend's now) and `runAt` applies. */
export interface NewJob {
  payload: Uint8Array;
  format: PayloadFormat;
  priority: number;
  maxAttempts: number;
  key: string | null;
  backoff: string | null;
  delayMs: number;
  runAt: number | null;
  /** ms after its run time after which a never-started job is dead with "expired". */
  ttlMs: number | null;
}

/** What a transition on one held job found. */
export type HeldOutcome = "ok" | "lease_lost" | "not_found";

/** A stored result of a completed job. */
export interface StoredResult {
  bytes: Uint8Array;
  format: PayloadFormat;
}

export interface Backend {
  /** A short name for messages and metrics: "sqlite" or "postgres". */
  readonly kind: string;
  /** Signals of changes made by other processes; in-process changes are the core's to emit. */
  readonly notifier: Notifier;

  /**
   * Inserts jobs in one transaction: all or none. A job whose `key` matches a pending or
   * reserved job of the queue inserts nothing and yields that job's id. With `maxSize`, the
   * insert happens only if the queue's pending and reserved jobs plus the new ones fit, and
   * `null` is returned otherwise (nothing written).
   */
  enqueue(queue: string, jobs: NewJob[], maxSize?: number): Promise<number[] | null>;

  /**
   * SQLite only (optional): `enqueue` committed before it returns, for code that cannot await.
   * Blocks the thread while another process holds the write lock, up to the busy timeout.
   */
  enqueueSync?(queue: string, jobs: NewJob[], maxSize?: number): number[] | null;

  /**
   * Atomically reserves up to `limit` ready jobs, in order (priority desc, run time, id): each
   * becomes reserved with its attempts incremented and its lease `leaseMs` from now. It never
   * hands out a never-started job past its ttl (that job becomes dead with "expired"). It also
   * returns jobs with lapsed leases to pending (or dead with "lease expired" once attempts are
   * spent): always when it finds fewer than `limit` ready jobs, and otherwise at least every
   * few hundred ms per queue, so a busy queue does not pay for that scan on every claim.
   */
  claim(queue: string, limit: number, leaseMs: number): Promise<StoredJob[]>;

  /**
   * Atomically removes and returns up to `limit` ready jobs, in order (channel receive: at most
   * once). Dead jobs are never taken.
   */
  take(queue: string, limit: number): Promise<StoredJob[]>;

  /** Puts a taken job back as dead with `error` (an item that could not be decoded). */
  bury(job: StoredJob, error: string): Promise<void>;

  /**
   * Puts taken jobs back as pending with their ids, so they keep their place (a receive that
   * had to be refused after the take, e.g. another item of the batch could not be decoded).
   */
  restore(jobs: StoredJob[]): Promise<void>;

  /**
   * Completes a reserved job held at `attempt` (any attempt when null) whose lease has not run
   * out. `keep: false` deletes it instead of keeping it as completed. `lease_lost` when it is
   * not reserved, held at another attempt or its lease ran out; `not_found` when no such job.
   */
  complete(
    queue: string,
    id: number,
    attempt: number | null,
    result: StoredResult | null,
    keep: boolean,
  ): Promise<HeldOutcome>;

  /**
   * Fails a reserved job held at `attempt` (any attempt when null): pending again after
   * `retryInMs`, or dead when `retryInMs` is null, with `error` kept. Same outcomes as complete.
   */
  fail(
    queue: string,
    id: number,
    attempt: number | null,
    error: string,
    retryInMs: number | null,
  ): Promise<HeldOutcome>;

  /** Moves the lease of a held job to now + `leaseMs`. Same outcomes as complete. */
  extend(queue: string, id: number, attempt: number | null, leaseMs: number): Promise<HeldOutcome>;

  /** Extends several held jobs at once (a worker's heartbeat); returns the ids that were lost. */
  extendMany(
    queue: string,
    held: ReadonlyArray<{ id: number; attempt: number }>,
    leaseMs: number,
  ): Promise<number[]>;

  /**
   * Returns held jobs to pending at once without counting the interrupted attempt (a stopping
   * worker's unstarted or aborted jobs). Jobs no longer held at that attempt are left alone.
   */
  release(queue: string, held: ReadonlyArray<{ id: number; attempt: number }>): Promise<void>;

  /** One job of the queue, or null. */
  get(queue: string, id: number): Promise<StoredJob | null>;
  /**
   * Jobs of one state in id order, with id greater than `afterId`. With `previewBytes`, the
   * payload and result hold only their first `previewBytes` bytes (the error its first
   * `previewBytes` characters), cut in the query so a page of huge jobs never leaves the store
   * whole, and `sizes` tells their full lengths.
   */
  list(
    queue: string,
    state: JobState,
    limit: number,
    afterId: number,
    previewBytes?: number,
  ): Promise<StoredJob[]>;
  /** Counts by state. */
  counts(queue: string): Promise<QueueSize>;
  /** Names of the queues that hold jobs. */
  queues(): Promise<string[]>;
  /** ms until the queue's next delayed job falls due (0 when one is ready), null when none. */
  nextDueIn(queue: string): Promise<number | null>;
  /** Age in ms of the oldest ready job, or null when none is ready. */
  oldestPendingAge(queue: string): Promise<number | null>;
  /** Items waiting (pending and reserved), as a channel counts them. */
  backlog(queue: string): Promise<number>;

  /** Dead jobs (all when `ids` is null) back to pending, attempts reset. Returns how many moved. */
  retry(queue: string, ids: number[] | null): Promise<number>;
  /** Deletes one job in any state; false when there was none. */
  remove(queue: string, id: number): Promise<boolean>;
  /** Deletes finished jobs of a state, only those finished more than `olderThanMs` ago if set. */
  purge(queue: string, state: "completed" | "dead", olderThanMs: number | null): Promise<number>;
  /** Deletes every job of the queue; with `keepDead`, dead ones stay. */
  clear(queue: string, keepDead: boolean): Promise<number>;

  /** Closes the store; later calls reject with CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * Cross-process wake-ups. Delivery is best effort: a lost signal costs latency (the pollers
 * still find the work), never a job.
 */
export interface Notifier {
  /**
   * Calls `listener` when another process may have changed `queue` (or, with `null`, any
   * queue). Returns a function that unsubscribes.
   */
  subscribe(listener: (queue: string | null) => void): () => void;
  /** Tells other processes that `queue` changed, where the mechanism needs it (NOTIFY). */
  announce(queue: string): void;
}
