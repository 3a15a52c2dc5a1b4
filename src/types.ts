/*
 * Glossary
 * - job: one unit of work stored in a queue: a payload plus its bookkeeping (state, attempts…).
 * - queue: a named list of jobs inside one database; names are values, never SQL.
 * - reserve / claim: atomically taking the next ready job so no one else can take it.
 * - lease: how long a reservation lasts; a holder that neither completes nor extends it in time
 *   loses the job, which becomes ready again for someone else.
 * - attempt: one reservation of a job; `attempts` counts them, starting at 1 on the first.
 * - dead: the state of a job that failed `maxAttempts` times, expired, or could not be decoded;
 *   it stays until retried or purged (the dead-letter place).
 * - worker: a loop that reserves jobs and runs a handler on them, keeping their leases alive.
 * - channel: a sender and a receiver over a queue, for at-most-once message passing.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { SpoolLogger } from "./metrics/logger-type.js";

/**
 * Where a job stands. `delayed` is a pending job whose `runAt` is still ahead; `waiting` a job
 * whose dependencies (AddOptions.dependsOn) are not all completed yet.
 */
export type JobState = "waiting" | "pending" | "delayed" | "reserved" | "completed" | "dead";

/** The states a caller may list. */
export const JOB_STATES: readonly JobState[] = [
  "waiting",
  "pending",
  "delayed",
  "reserved",
  "completed",
  "dead",
];

/** How long to wait before retrying a failed job. */
export type Backoff =
  | {
      type: "exponential";
      /** First retry after this many ms; doubled each attempt. @default 1000 */
      delay?: number;
      /** Never wait longer than this. @default 3_600_000 */
      max?: number;
    }
  | { type: "fixed" /** Wait this many ms before every retry. */; delay: number }
  /**
   * Computed per failure (ms, rounded up). Not storable: applies where the queue object holding
   * it (or its workers) fails the job; a per-add function does not drop the queue's default.
   */
  | ((attempt: number, error: unknown) => number);

/**
 * Options of `add` and `addBatch`; also accepted as queue defaults. Every duration and time is
 * rounded up to whole ms (`delay: 1.5` waits 2 ms): never shorter than asked.
 */
/** The options of a job that a queue's defaults may state too (every add option but `dependsOn`). */
export interface JobDefaults {
  /** Higher runs first. A safe integer. @default 0 */
  priority?: number;
  /** Run no sooner than this many ms from now. Not together with `runAt`. @default 0 */
  delay?: number;
  /** Run no sooner than this time (a Date or ms since the epoch). Not together with `delay`. */
  runAt?: Date | number;
  /** Attempts before the job is dead. An integer ≥ 1. @default 3 */
  maxAttempts?: number;
  /**
   * Wait between attempts. The job's own backoff wins over the queue's default.
   * @default { type: "exponential", delay: 1000, max: 3_600_000 }
   */
  backoff?: Backoff;
  /**
   * Dedupe key: while a job with the same key is pending or reserved in this queue, `add`
   * returns that job's id and adds nothing.
   * @example queue.add(order, { key: `order-${order.id}` })
   */
  key?: string;
  /** A job not started within this many ms of its `runAt` becomes dead with `"expired"`. */
  ttl?: number;
  /**
   * The job's group (e.g. a tenant): ready groups are served round-robin, and the queue's
   * `groupConcurrency` bounds how many jobs of one group are reserved at once. Text like a `key`.
   * @example queue.add(task, { group: `tenant-${task.tenantId}` })
   */
  group?: string;
}

/**
 * Options of `add` and `addBatch`: the job's own (also accepted as queue defaults), and what it
 * waits for.
 */
export interface AddOptions extends JobDefaults {
  /**
   * Ids of jobs (of any queue of this store) this one waits for: it is `waiting` until every one
   * of them is completed, then pending, in the same transaction as the last completion. When
   * one ends dead (or is removed unfinished), this job ends dead with `"dependency failed"`
   * (`"dependency removed"`), and so do the jobs waiting on it. Each id must be a job of the
   * store (else `NOT_FOUND`, nothing written); one already completed counts as done. Not a queue
   * default. The handler reads their results with `context.results()`.
   * @example const child = await resize.add(img); await publish.add(post, { dependsOn: [child] })
   */
  dependsOn?: readonly number[];
}

/** Turns payloads into bytes and back. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * `"json"`: any JSON value. `"binary"`: Buffer/Uint8Array only, returned as Buffer. A custom
 * object: your own bytes. Default: JSON values, with Buffer/Uint8Array stored as raw bytes.
 */
export type CodecOption<T> = "json" | "binary" | Codec<T>;

/** How long finished jobs are kept before they are removed automatically. */
export interface Retention {
  /** ms to keep completed jobs; 0 deletes them on completion. @default 3_600_000 */
  completed?: number;
  /** ms to keep dead jobs. @default 1_209_600_000 (14 days) */
  dead?: number;
}

/** `spool.queue(name, defaults)`: defaults for every job added through this queue object. */
export interface QueueOptions<T = unknown> extends JobDefaults {
  /** Reservation length in ms (at least 500 where a worker uses it). @default 30_000 */
  lease?: number;
  /** Payload codec. @default JSON values and raw bytes */
  codec?: CodecOption<T>;
  /** Automatic clean-up of finished jobs. */
  retention?: Retention;
  /**
   * Any Standard Schema (zod, valibot, arktype, …): `add` validates each payload against it and
   * stores the schema's output; a payload that fails is refused with `INVALID_ARGUMENT` (the
   * schema's issues in `cause`) and nothing is written. The queue's payload types are inferred
   * from it. Jobs already stored are not validated again when read.
   * @example spool.queue("emails", { schema: z.object({ to: z.email() }) })
   */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * At most `max` job starts in any window of `duration` ms, across all processes (a sliding
   * window; a claim is a start). Stored with the queue; `null` removes it; a handle that states
   * nothing follows the stored limit.
   * @example spool.queue("api-calls", { rateLimit: { max: 50, duration: 1000 } })
   */
  rateLimit?: { max: number; duration: number } | null;
  /**
   * At most this many jobs of the queue reserved at once, across all processes (unlike a
   * worker's own `concurrency`, which bounds one worker). Stored with the queue; `null` removes it.
   */
  concurrency?: number | null;
  /**
   * At most this many jobs of one group (see AddOptions.group) reserved at once, across all
   * processes. Stored; `null` removes it.
   *
   * 1 is strict FIFO per group, by id: a group's next job is its pending job with the lowest id,
   * and while that job is not ready (delayed, or waiting out a retry's backoff) the group waits:
   * no later job of the group overtakes it, whatever its priority. A job past its `ttl` holds
   * nothing (it never runs). Other groups are served meanwhile. Above 1, a group's jobs start
   * in claim order (priority, run time, id), ready ones passing those not ready.
   */
  groupConcurrency?: number | null;
}

/** A reserved job, as its holder sees it. */
export interface Job<T> {
  id: number;
  queue: string;
  payload: T;
  /** The current attempt: 1 on the first reservation. */
  attempts: number;
  maxAttempts: number;
  priority: number;
  key?: string;
  createdAt: Date;
  runAt: Date;
  /** When this reservation runs out unless extended. */
  leaseUntil: Date;
  /**
   * The lease token: which reservation of the job this is (the job's claim count, which never
   * repeats, unlike `attempts` after a retry). `complete`, `fail` and `extend` given this Job
   * act only while that reservation holds; it survives a copy (JSON, structuredClone), so a Job
   * handed to another thread or process stays exact. Always set by `reserve`; a Job without it
   * is checked by `attempts` alone.
   */
  token?: number;
}

/**
 * What a handler or a holder reports of a job's progress: a finite number from 0 to 100, or a
 * plain JSON object (at most 64 KiB as JSON).
 */
export type JobProgress = number | { [key: string]: unknown };

/** Any job in any state, as `get` and `list` return it. */
export interface JobInfo<T> extends Omit<Job<T>, "leaseUntil" | "token"> {
  state: JobState;
  /** The job's group (AddOptions.group), when it has one. */
  group?: string;
  leaseUntil?: Date;
  lastError?: string;
  finishedAt?: Date;
  result?: unknown;
  /** The last progress reported for the job (kept across retries), or null when none was. */
  progress: JobProgress | null;
  /** The jobs it depends on (AddOptions.dependsOn), by id, when it has any (`get` only). */
  dependsOn?: number[];
}

/** Counts by state; `total` is their sum. */
export interface QueueSize {
  /** Jobs whose dependencies are not all completed yet. */
  waiting: number;
  pending: number;
  delayed: number;
  reserved: number;
  completed: number;
  dead: number;
  total: number;
  /** The queue is paused (`queue.pause()`): no worker claims from it until it is resumed. */
  paused: boolean;
}

/** Durability of a commit: SQLite's `synchronous`. */
export type Durability = "off" | "normal" | "full" | "extra";

/** Options of `Spool.open`. */
export interface SpoolOptions {
  /**
   * What a resolved promise survives. `off`: a process crash may lose the last commits only if
   * the OS crashes too; `normal`: survives process crashes, power loss may undo the last
   * commits; `full`: survives power loss; `extra`: `full` plus the directory sync.
   * @default "full"
   */
  durability?: Durability;
  /** ms to keep retrying while another process holds the write lock, then `BUSY`. @default 5000 */
  busyTimeout?: number;
  /** Largest encoded payload accepted. @default 67_108_864 (64 MiB) */
  maxPayloadBytes?: number;
  /** Permission bits of a database file Spool creates. @default 0o600 */
  fileMode?: number;
  /** PostgreSQL schema holding Spool's tables. @default "spool" */
  schema?: string;
  /** PostgreSQL only: the most connections this Spool opens (plus one for LISTEN). @default 10 */
  poolSize?: number;
  /** Watch for jobs added by other processes (file watch or LISTEN/NOTIFY). @default true */
  crossProcessWakeups?: boolean;
  /**
   * Create the database (file or PostgreSQL schema) when missing. With `false`, opening
   * something that is not already a Spool database fails with `STORAGE` and writes nothing:
   * for tools that only inspect. @default true
   */
  create?: boolean;
  /**
   * Upgrade a store written by an older Spool to this version's schema. With `false`, such a
   * store is refused with `STORAGE` and left as it was: for tools (the CLI, a dashboard) that
   * must not upgrade it under the application, which would then refuse to open it. A new
   * store is still created when `create` allows it. @default true
   */
  migrate?: boolean;
  /**
   * A logger in pino's shape (`{ debug, info, warn, error }(obj, msg)`): worker errors, lost
   * leases and listener reconnects are logged with their queue, job and attempt. Never a
   * payload or a password. @default silent
   */
  logger?: SpoolLogger;
  /**
   * SQLite only: the driver Spool opens the file with. `"better-sqlite3"` (a native addon, an
   * optional dependency), `"node:sqlite"` (built into Node 22.16+ and 24, and Bun: no native
   * build) or `"bun:sqlite"` (built into Bun; on Node it is STORAGE).
   * @default on Bun bun:sqlite; on Node better-sqlite3 where it loads, else node:sqlite (or the
   * SPOOL_SQLITE_DRIVER environment variable, when set)
   */
  driver?: "better-sqlite3" | "node:sqlite" | "bun:sqlite";
}

/**
 * A caller's own database connection, for an add inside its transaction: a `pg` Client or
 * PoolClient, or anything whose `query(text, values)` runs SQL on that connection and resolves
 * with its rows (an adapter around an ORM's transaction).
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Options of one `add` or `addBatch` call: the job options, plus where the add runs.
 */
export interface AddCallOptions extends AddOptions {
  /**
   * PostgreSQL: your own `pg` client (a Client, or a PoolClient from your pool) inside your
   * transaction, or an adapter with the same `query(text, values)`. The add runs on it, in that
   * transaction: the jobs, and the NOTIFY that wakes workers, exist only if it commits. Not
   * for SQLite (use `addSync` on a Spool opened on your Database).
   */
  client?: SqlClient;
}

/**
 * An open better-sqlite3 `Database` on a file, as `Spool.open(db)` takes it: Spool opens a
 * connection of its own to the same file for its work, and `queue.addSync` adds on this one,
 * inside the application's transaction. Any object of this shape passes the type check; the
 * checks at open are those of a better-sqlite3 Database.
 */
export interface SqliteDatabase {
  readonly name: string;
  readonly open: boolean;
  readonly inTransaction: boolean;
  readonly memory: boolean;
  readonly readonly: boolean;
  prepare(source: string): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
}

/**
 * One job of a flow (`spool.flow`): added to `queue` (a name, or a Queue handle whose codec,
 * schema and defaults then apply) with `payload` and `options`; it depends on every one of its
 * `children`, which are added first, in the same transaction.
 */
export interface FlowNode {
  queue: string | FlowQueue;
  payload: unknown;
  options?: AddOptions;
  children?: readonly FlowNode[];
}

/** What `spool.flow` returns: the tree it was given, with each job's id. */
export interface FlowJob {
  queue: string;
  id: number;
  children: FlowJob[];
}

/** A Queue handle as a flow node names it (any `Queue`). */
export interface FlowQueue {
  readonly name: string;
}
