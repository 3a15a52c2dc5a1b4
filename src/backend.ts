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
import type { SpoolLogger } from "./metrics/logger-type.js";
import type { Durability, JobState, QueueSize, SqlClient } from "./types.js";

/** What `Spool.open` hands a backend factory, defaults already applied. */
export interface BackendOptions {
  durability: Durability;
  busyTimeout: number;
  fileMode: number;
  /** PostgreSQL only: the schema holding Spool's tables. */
  schema: string;
  /** PostgreSQL only: connections in the pool (default 10). */
  poolSize?: number;
  crossProcessWakeups: boolean;
  /** false: refuse (STORAGE) a store that is not already a Spool database, writing nothing. */
  create: boolean;
  /**
   * false: refuse (STORAGE) a Spool store of an older schema version instead of upgrading it,
   * writing nothing: a tool must not upgrade a store under the application that runs on it.
   */
  migrate: boolean;
  /** SQLite only (one machine): the clock leases and run times are measured on. */
  clock: Clock;
  /** SQLite only: the driver asked for; undefined lets the backend choose (see sqlite/driver.ts). */
  driver?: "better-sqlite3" | "node:sqlite" | "bun:sqlite";
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
  /**
   * How many times the job was ever claimed: the lease token of its current holder. Unlike
   * `attempts`, it never goes down (retry and release leave it), so a stale holder can never
   * pass for a later one.
   */
  claims: number;
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
  /** JSON of the last progress reported, or null (a claim need not read it: null there). */
  progress: string | null;
  /** The job's group, or null (a claim need not read it: absent there). */
  group?: string | null;
  /**
   * Set by a claim: ms left, on the store's clock, until the job's ttl runs out (null: no ttl).
   * A worker that holds the job before starting it must not start it once that has passed.
   */
  expiresIn?: number | null;
  /** Set by a claim when the job was added inside a traced span: its producer's trace context. */
  trace?: string;
  /** Set by `get` when the job has dependencies: their ids, ascending. */
  dependsOn?: number[];
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
  /** The producer's trace context (JSON of the W3C carrier), when it was traced. */
  trace?: string | null;
  /** The job's group (a tenant): see limits.ts. Absent or null: ungrouped. */
  group?: string | null;
  /**
   * Ids of the jobs it waits for (absent, null or empty: none). Each must exist (else NOT_FOUND,
   * nothing written); the job is inserted `waiting` unless all are completed already, and dead
   * with "dependency failed" when one is dead.
   */
  dependsOn?: readonly number[] | null;
}

/** A job of a flow to insert: `children` are indexes of earlier entries, which it depends on. */
export interface FlowInsert {
  queue: string;
  job: NewJob;
  children: readonly number[];
}

/** One dependency of a job: its id, whether it completed, and then its stored result. */
export interface StoredDependency {
  id: number;
  done: boolean;
  result: StoredResult | null;
}

/**
 * Who claims to hold a job. A holder that got the job from a claim knows its `token` (the job's
 * `claims` then); a Job rebuilt elsewhere knows only its `attempt`. Null fields are not checked.
 */
export interface Hold {
  attempt: number | null;
  token: number | null;
}

/** A job held by this process, as heartbeats and releases name it. */
export interface HeldRef {
  id: number;
  token: number;
}

/** What a heartbeat's extendMany did: every id asked for not in either list was extended. */
export interface ExtendedMany {
  /** No longer held under its token (taken back, finished, gone). */
  lost: number[];
  /** Its row was held by another transaction: not extended yet, not lost. */
  skipped: number[];
}

/** What `take`'s decode callback makes of one job: its item, or why it cannot be decoded. */
export type Decoded<T> = { item: T } | { error: string; cause: unknown };

/**
 * What a take reads of each job it removes: what a decoder needs. A backend may pass a whole
 * StoredJob; SQLite reads no more, since every column returned costs a JS value per row.
 */
export type TakenJob = Pick<StoredJob, "id" | "payload" | "format">;

/** What a `take` did: the items it removed, or (removing nothing) the first job that was refused. */
export type Taken<T> =
  | { items: T[]; failed: null }
  | { items: []; failed: { job: TakenJob; cause: unknown } };

/**
 * The settings of one queue that every process must agree on, stored with the queue. A null
 * field was never stated: the contract's default applies. Pause, rate limits and concurrency
 * join as further fields (columns of the same row).
 */
/** Which ids a browse reads: `after` < id <= `through`, at most `limit` of them. */
export interface BrowseRange {
  after: number;
  through: number;
  limit: number;
}

export interface QueueSettings {
  /** ms finished jobs are kept (`completed: 0` deletes on completion), or null when never stated. */
  retention: { completed: number; dead: number } | null;
  /** The queue is paused: claims take nothing from it (absent or false: not paused). */
  paused?: boolean;
  /** The queue's stored limits (absent: none stored). */
  limits?: QueueLimits;
  /** The queue ever had a grouped job: its claims serve groups in turn (absent: false). */
  grouped?: boolean;
}

/** A queue's limits as stored; null: no such limit. */
export interface QueueLimits {
  /** At most `max` job starts (claims) in any window of `duration` ms. */
  rateLimit: { max: number; duration: number } | null;
  /** At most this many jobs of the queue reserved at once. */
  concurrency: number | null;
  /** At most this many jobs of one group reserved at once. */
  groupConcurrency: number | null;
}

/** The limits a handle states: each key present is stored (null removes it), the others stay. */
export type LimitsPatch = Partial<QueueLimits>;

/** What a transition on one held job found. */
export type HeldOutcome = "ok" | "lease_lost" | "not_found";

/** A stored result of a completed job. */
export interface StoredResult {
  bytes: Uint8Array;
  format: PayloadFormat;
}

/**
 * A stored cron schedule (see ScheduleStore). Times are ms since the epoch; fire times are
 * computed by the core from `cron` and `tz`, never by the store.
 */
export interface StoredSchedule {
  name: string;
  queue: string;
  cron: string;
  /** The IANA time zone the cron is read in. */
  tz: string;
  catchUp: string;
  payload: Uint8Array;
  format: PayloadFormat;
  /** JSON of the options every fired job is added with (priority, maxAttempts, backoff, ttl). */
  options: string;
  /** The earliest fire not yet decided (enqueued or skipped): the fire CAS compares it. */
  nextAt: number;
  /** The latest fire time a job was enqueued for, or null when none yet. */
  lastAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A schedule to store; `nextAt` applies only to a new schedule or a changed cron or tz. */
export type NewSchedule = Omit<StoredSchedule, "lastAt" | "createdAt" | "updatedAt">;

/**
 * Stored cron schedules, shared by every process on the store. Each method is one atomic
 * transition; the core decides which fires are due and what they enqueue.
 */
export interface ScheduleStore {
  /** The store's clock (ms): SQLite's (injectable) clock, PostgreSQL's now(). */
  now(): Promise<number>;
  /**
   * Inserts or replaces the schedule `s.name`, in one statement. When the stored one has the
   * same cron and tz, its next_at and last_at stay (a process that states its schedules on
   * every start neither skips nor repeats a fire); otherwise next_at becomes `s.nextAt` and
   * last_at stays.
   */
  upsert(s: NewSchedule): Promise<void>;
  /** Deletes the schedule; false when there was none. A fire racing it then enqueues nothing. */
  remove(name: string): Promise<boolean>;
  /** Every schedule by name, and the store's now, read in one snapshot. */
  list(): Promise<{ now: number; schedules: StoredSchedule[] }>;
  /**
   * The fire transition, in ONE transaction: a compare-and-set of the schedule's next_at from
   * `expectedNextAt` to `newNextAt` (last_at to `lastAt` unless null), and, only when that
   * changed the row, the insert of `jobs` into `queue` as `enqueue` inserts them (a job whose
   * key a live job holds is skipped). Returns the ids inserted, or null when the CAS changed
   * nothing: another process (or an unschedule, or an upsert with a new cron) got there first,
   * and nothing was written. So each next_at value is moved past exactly once, by one
   * transaction, and the jobs for the fires it covers are committed with that move or not at all.
   */
  fire(
    name: string,
    expectedNextAt: number,
    newNextAt: number,
    lastAt: number | null,
    queue: string,
    jobs: NewJob[],
  ): Promise<number[] | null>;
}

/** A claim's payload budget (Backend.claim): its first `free` jobs always, more while lighter than `bytes`. */
export interface ClaimBound {
  free: number;
  bytes: number;
}

/**
 * How many of the ready jobs, weighing `lengths` bytes in claim order, a claim bounded by
 * `bound` takes: the first `free`, then each next one while those before it weigh less than
 * `bytes`. Never fewer than one of them: a job heavier than the budget still runs.
 */
export function boundedCount(lengths: readonly number[], bound: ClaimBound): number {
  let before = 0;
  for (let i = 0; i < lengths.length; i++) {
    if (i >= Math.max(1, bound.free) && before >= bound.bytes) return i;
    before += lengths[i] as number;
  }
  return lengths.length;
}

export interface Backend {
  /** A short name for messages and metrics: "sqlite" or "postgres". */
  readonly kind: string;
  /**
   * Whether a claim runs on this thread, holding the event loop for its statement (SQLite's
   * drivers are synchronous): no handler runs during the statement itself, only while the claim
   * waits for its turn in the writer or for another process's lock, so a worker's prefetch has
   * no network round trip to cover (worker-pace.ts).
   */
  readonly claimsHoldThread: boolean;
  /** Signals of changes made by other processes; in-process changes are the core's to emit. */
  readonly notifier: Notifier;
  /** Stored cron schedules (see ScheduleStore). */
  readonly schedules: ScheduleStore;

  /**
   * Inserts jobs in one transaction: all or none. A job whose `key` matches a pending or
   * reserved job of the queue inserts nothing and yields that job's id; a pending job past its
   * ttl holds no key (it is made dead with "expired" first). With `maxSize`, the
   * insert happens only if the queue's pending and reserved jobs plus the new ones fit, and
   * `null` is returned otherwise (nothing written). When `inserted` is given, its entry i is set
   * to whether job i was written (false: a live job with its key stands for it), so the core
   * attaches what it keeps in memory for new jobs (a function backoff) to new jobs only.
   */
  enqueue(queue: string, jobs: NewJob[], maxSize?: number, inserted?: boolean[]): Promise<number[] | null>;

  /**
   * SQLite only (optional): `enqueue` committed before it returns, for code that cannot await.
   * Blocks the thread while another process holds the write lock, up to the busy timeout. With
   * `onApp`, on a store opened on the application's own Database, it runs on that connection
   * instead: inside the application's open transaction when there is one (committed or rolled
   * back with it; a savepoint undoes a half-done add), else committed before it returns.
   */
  enqueueSync?(
    queue: string,
    jobs: NewJob[],
    maxSize?: number,
    inserted?: boolean[],
    onApp?: boolean,
  ): number[] | null;

  /**
   * PostgreSQL only (optional): `enqueue` on the caller's own `client`, inside whatever
   * transaction it has open: no BEGIN or COMMIT of ours, so the jobs and their NOTIFY exist only
   * if that transaction commits. A key that conflicts with a live job yields that job's id, as
   * for enqueue.
   */
  enqueueOn?(client: SqlClient, queue: string, jobs: NewJob[], inserted?: boolean[]): Promise<number[]>;

  /**
   * Inserts a flow's jobs in one transaction, in order, each entry depending on its `children`
   * (earlier entries, whose ids it gets) besides its own `dependsOn`. Returns the ids in order.
   */
  enqueueFlow(jobs: readonly FlowInsert[]): Promise<number[]>;

  /**
   * The dependencies of job `id` (of `queue`), ascending by id, with the result of each one
   * that completed: kept with the dependency link, so a completed dependency deleted since
   * (retention) still gives its result. Empty when the job has none or does not exist.
   */
  dependencies(queue: string, id: number): Promise<StoredDependency[]>;

  /**
   * Atomically reserves up to `limit` ready jobs, in order (priority desc, run time, id): each
   * becomes reserved with its attempts and claims incremented and its lease `leaseMs` from now.
   * It never hands out a never-started job past its ttl (such jobs become dead with "expired");
   * the deadline stays with a claimed job until a transition says it started (a retry after
   * `fail`, a started `release`, a lapsed lease). It also
   * returns jobs with lapsed leases to pending (or dead with "lease expired" once attempts are
   * spent): always when it finds fewer than `limit` ready jobs, and otherwise at least every
   * few hundred ms per queue, so a busy queue does not pay for that scan on every claim (the
   * rescue: its policy is written once, for both backends, in backends/shared.ts).
   * A paused queue gives nothing: the claim statement itself reads the queue's settings row
   * (by primary key), so no process claims from a paused queue whatever it believes. With a
   * `bound`, jobs past its first `free` are taken only while the payloads taken so far weigh
   * less than its `bytes` (a worker's prefetch: sized by the payloads actually claimed, not by
   * those it saw before). A limited queue's claim ignores it: it claims for free slots only.
   */
  claim(queue: string, limit: number, leaseMs: number, bound?: ClaimBound): Promise<StoredJob[]>;

  /**
   * A channel receive: removes up to `limit` ready jobs, in order (priority desc, run time, id),
   * and returns them decoded, at most once. Dead jobs are never taken.
   *
   * `decode` is called synchronously for each removed job, in order, INSIDE the transaction
   * that removes them, so the whole receive is one atomic step: when every job decodes, they
   * are gone and their items returned; when any does not, every job that failed to decode ends
   * dead (its `error` as lastError, its key kept like any dead job's: it blocks no add), and every other one exactly where it was (pending,
   * same id, key and place, never visibly gone: an add with its key meets it, a crash loses
   * nothing). A backend may bury the undecodable ones just after rolling the removal back: a
   * crash in between leaves them pending, for the next receive to bury. `failed` then names the first that failed, and `items`
   * is empty. `decode` must not throw: it reports a failure as `{ error, cause }`. It may be
   * called again for the same job if the transaction has to be run again.
   */
  take<T>(queue: string, limit: number, decode: (job: TakenJob) => Decoded<T>): Promise<Taken<T>>;

  /**
   * Completes a reserved job held as `hold` says whose lease has not run out. `keep: false`
   * deletes it instead of keeping it as completed. `lease_lost` when it is not reserved, held
   * under another token or attempt, or its lease ran out; `not_found` when no such job.
   */
  complete(
    queue: string,
    id: number,
    hold: Hold,
    result: StoredResult | null,
    keep: boolean,
  ): Promise<HeldOutcome>;

  /**
   * Fails a reserved job held as `hold` says: pending again after `retryInMs`, or dead when
   * `retryInMs` is null, with `error` kept. Same outcomes as complete.
   */
  fail(queue: string, id: number, hold: Hold, error: string, retryInMs: number | null): Promise<HeldOutcome>;

  /** Moves the lease of a held job to now + `leaseMs`. Same outcomes as complete. */
  extend(queue: string, id: number, hold: Hold, leaseMs: number): Promise<HeldOutcome>;

  /** Stores `progress` (JSON) on a held job, lease-checked like extend. Same outcomes as complete. */
  progress(queue: string, id: number, hold: Hold, progress: string): Promise<HeldOutcome>;

  /**
   * Extends several held jobs at once (a worker's heartbeat). A job whose row another
   * transaction holds at that moment (PostgreSQL's row locks) is skipped, neither extended nor
   * lost: the heartbeat never waits behind an application's transaction, and the backend renews
   * it once the lock is let go.
   */
  extendMany(queue: string, held: ReadonlyArray<HeldRef>, leaseMs: number): Promise<ExtendedMany>;

  /**
   * Returns held jobs to pending at once without counting the interrupted attempt (a stopping
   * worker's unstarted or aborted jobs). Jobs no longer held under that token are left alone.
   * `started`: their handlers ran, so they have met their ttl; unstarted ones keep it.
   */
  release(queue: string, held: ReadonlyArray<HeldRef>, started: boolean): Promise<void>;

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
  /**
   * Jobs of any of `states` with `range.after` < id <= `range.through`, in id order, at most
   * `range.limit`, read in one statement: one snapshot, so a job that moves between two of the
   * states while a reader pages through them is seen once. `previewBytes` as for list.
   */
  browse(
    queue: string,
    states: readonly JobState[],
    range: BrowseRange,
    previewBytes?: number,
  ): Promise<StoredJob[]>;
  /** Counts by state, and whether the queue is paused, from one snapshot. */
  counts(queue: string): Promise<QueueSize>;
  /** Names of the queues that hold jobs. */
  queues(): Promise<string[]>;
  /**
   * ms until the queue's next delayed job falls due (0 when one is ready), null when none or
   * when the queue is paused (a claim would take nothing: the worker waits for a wake-up).
   */
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

  /** The stored settings of `queue`, or null when none were ever stored. */
  readSettings(queue: string): Promise<QueueSettings | null>;
  /** Stores the retention of `queue` for every process (one upsert; other settings stay). */
  storeRetention(queue: string, retention: { completed: number; dead: number }): Promise<void>;
  /**
   * Pauses (or resumes) `queue` for every process: one upsert of its settings row (other
   * settings stay), after which `claim` takes nothing from it until it is resumed. Every other
   * process is told (as by an add), so its workers learn of it at once.
   */
  storePaused(queue: string, paused: boolean): Promise<void>;
  /**
   * Stores the limits `patch` states for `queue` (one upsert: the keys it does not name, and
   * other settings, stay). Claims in every process obey them from the commit on: each claim
   * reads them in its own transaction. Every other process is told, as by an add.
   */
  storeLimits(queue: string, patch: LimitsPatch): Promise<void>;
  /**
   * Deletes the queue's completed and dead jobs finished longer ago than its stored retention,
   * or than `defaults` when it has none: the settings are read in the same transaction as the
   * deletes, so a retention stored by another process is never undercut by a stale copy.
   * Returns how many jobs went.
   */
  prune(queue: string, defaults: { completed: number; dead: number }): Promise<number>;

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
  /** Where it logs a lost connection, a reconnect or a watch that failed (set by the Spool). */
  logger?: SpoolLogger;
}
