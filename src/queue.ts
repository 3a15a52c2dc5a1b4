// Queue<T>: the contract's job operations. Validation, defaults, codecs and the retry policy live
// here; each storage change is one backend transition.
import type { HeldOutcome, Hold, NewJob, StoredJob, StoredResult } from "./backend.js";
import { type BackoffFn, backoffDelay, checkBackoff } from "./backoff.js";
import { decodeLenient, decodeResult, encodeResult, type PayloadCodec, resolveCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { errorText, leaseLostError, SpoolError, show } from "./errors.js";
import { DEFAULT_RETENTION } from "./settings.js";
import { heldRef, holdOf, rowHold } from "./tokens.js";
import type { AddOptions, Job, JobInfo, JobState, QueueOptions, QueueSize, Retention } from "./types.js";
import {
  checkDuration,
  checkId,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPositiveDuration,
  checkSafeInteger,
  checkState,
  checkTime,
  MAX_COUNT,
} from "./validate.js";
import { Worker, type WorkerHandler, type WorkerOptions } from "./worker.js";

export const DEFAULT_LEASE = 30_000;
export { DEFAULT_RETENTION };

const ADD_KEYS = ["priority", "delay", "runAt", "maxAttempts", "backoff", "key", "ttl"] as const;
const QUEUE_KEYS = [...ADD_KEYS, "lease", "codec", "retention"] as const;

/** AddOptions after validation, as stored with each job. */
interface ResolvedAdd {
  priority: number;
  delayMs: number;
  runAt: number | null;
  maxAttempts: number;
  backoff: string | null;
  key: string | null;
  ttlMs: number | null;
}

/** Checked add options; a function backoff is kept aside in `backoffFn` (it cannot be stored). */
type CheckedAdd = Partial<ResolvedAdd> & { backoffFn?: BackoffFn };

function checkAddOptions(raw: unknown, what: string, allowed: readonly string[]): CheckedAdd {
  const o = checkObject(raw, what);
  checkKnownKeys(o, allowed, what);
  const out: CheckedAdd = {};
  if (o.priority !== undefined) out.priority = checkSafeInteger(o.priority, "priority");
  if (o.delay !== undefined && o.runAt !== undefined) {
    throw new SpoolError("INVALID_ARGUMENT", "give either delay or runAt, not both");
  }
  if (o.delay !== undefined) {
    out.delayMs = checkDuration(o.delay, "delay");
    out.runAt = null;
  }
  if (o.runAt !== undefined) {
    out.runAt = checkTime(o.runAt, "runAt");
    out.delayMs = 0;
  }
  if (o.maxAttempts !== undefined) out.maxAttempts = checkInteger(o.maxAttempts, "maxAttempts", 1, MAX_COUNT);
  if (typeof o.backoff === "function") out.backoffFn = o.backoff as BackoffFn;
  else if (o.backoff !== undefined) out.backoff = checkBackoff(o.backoff);
  if (o.key !== undefined) {
    // Refused alike on every backend: what one store could not keep exactly. PostgreSQL text
    // holds no NUL and turns a lone surrogate into U+FFFD (two keys would become one), and its
    // key index takes about 2.7 kB per entry.
    if (
      typeof o.key !== "string" ||
      o.key.length === 0 ||
      o.key.length > 1024 ||
      Buffer.byteLength(o.key) > 2048 ||
      o.key.includes("\0") ||
      /[\uD800-\uDFFF]/u.test(o.key) // a lone surrogate (a pair is one code point here)
    ) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `key must be well-formed text of 1–1024 characters (2048 bytes in UTF-8) without NUL, got ${show(o.key)}`,
      );
    }
    out.key = o.key;
  }
  if (o.ttl !== undefined) out.ttlMs = checkPositiveDuration(o.ttl, "ttl");
  return out;
}

function checkRetention(raw: unknown): Required<Retention> {
  const o = checkObject(raw, "retention");
  checkKnownKeys(o, ["completed", "dead"], "retention");
  return {
    completed:
      o.completed === undefined
        ? DEFAULT_RETENTION.completed
        : checkDuration(o.completed, "retention.completed"),
    dead: o.dead === undefined ? DEFAULT_RETENTION.dead : checkDuration(o.dead, "retention.dead"),
  };
}

export class Queue<T = unknown> {
  readonly name: string;
  /** Reservation length in ms used by reserve and process unless they say otherwise. */
  readonly lease: number;
  /**
   * The retention this handle states, or the defaults when it states none. What applies is the
   * queue's stored retention: a handle that states one stores it (for every process), one that
   * states none follows the stored one.
   */
  readonly retention: Readonly<Required<Retention>>;
  /** @internal */
  readonly ctx: SpoolContext;
  /** @internal */
  readonly codec: PayloadCodec<T>;
  private readonly defaults: ResolvedAdd;
  /** The queue's default backoff: a function, or the stored JSON of a policy. */
  private readonly queueBackoff: BackoffFn | string | null;
  /**
   * Per-add function backoffs by job id. A function cannot be stored, so it applies only where
   * this queue object fails the job; elsewhere the job falls back to the queue default stored
   * with it. Dropped when this object sees the job finish.
   */
  private readonly jobBackoffs = new Map<number, BackoffFn>();

  /** @internal use `spool.queue(name, defaults)` */
  constructor(ctx: SpoolContext, name: string, options: QueueOptions<T> | undefined) {
    this.ctx = ctx;
    this.name = name;
    const o = checkObject(options, "queue options");
    checkKnownKeys(o, QUEUE_KEYS, "queue");
    const add = checkAddOptions(
      Object.fromEntries(ADD_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])),
      "queue defaults",
      ADD_KEYS,
    );
    this.defaults = {
      priority: add.priority ?? 0,
      delayMs: add.delayMs ?? 0,
      runAt: add.runAt ?? null,
      maxAttempts: add.maxAttempts ?? 3,
      backoff: add.backoff ?? null,
      key: add.key ?? null,
      ttlMs: add.ttlMs ?? null,
    };
    this.queueBackoff = add.backoffFn ?? add.backoff ?? null;
    this.lease = o.lease === undefined ? DEFAULT_LEASE : checkPositiveDuration(o.lease, "lease");
    this.codec = resolveCodec(o.codec as QueueOptions<T>["codec"]);
    this.retention = checkRetention(o.retention);
  }

  /** Adds one job; resolves with its id once committed (or the id of a job with the same key). */
  async add(payload: T, options?: AddOptions): Promise<number> {
    const [id] = await this.insert([payload], options);
    return id as number;
  }

  /** Adds every payload in one transaction: all are added or none. */
  async addBatch(payloads: readonly T[], options?: AddOptions): Promise<number[]> {
    if (!Array.isArray(payloads)) {
      throw new SpoolError("INVALID_ARGUMENT", `addBatch takes an array of payloads, got ${show(payloads)}`);
    }
    if (payloads.length === 0) {
      // Nothing to add, but the call is still checked (as add checks it: CLOSED first).
      this.ctx.assertOpen();
      this.resolveAdd(options);
      return [];
    }
    return this.insert(payloads, options);
  }

  /** @internal shared by add, addBatch and the channel's sender. */
  async insert(payloads: readonly T[], options: AddOptions | undefined, maxSize?: number): Promise<number[]> {
    this.ctx.assertOpen();
    const { add, backoffFn } = this.resolveAdd(options);
    const jobs = this.encode(payloads, add);
    const ids = await this.ctx.backend.enqueue(this.name, jobs, maxSize);
    if (ids === null) return [];
    if (backoffFn !== undefined) for (const id of ids) this.jobBackoffs.set(id, backoffFn);
    this.ctx.signal(this.name);
    return ids;
  }

  /** @internal validates and encodes before anything is written. */
  prepare(payloads: readonly T[], options: AddOptions | undefined): NewJob[] {
    return this.encode(payloads, this.resolveAdd(options).add);
  }

  /** The queue's defaults overlaid with `options`; a per-add function backoff is kept aside. */
  private resolveAdd(options: AddOptions | undefined): { add: ResolvedAdd; backoffFn?: BackoffFn } {
    const { backoffFn, ...given } = checkAddOptions(options, "add options", ADD_KEYS);
    // With a per-add function, the job stores the queue's default policy: a process without the
    // function falls back to the queue's choice, not to the built-in default.
    const o: ResolvedAdd = { ...this.defaults, ...given };
    if (given.delayMs !== undefined || given.runAt !== undefined) {
      o.delayMs = given.delayMs ?? 0;
      o.runAt = given.runAt ?? null;
    }
    return backoffFn === undefined ? { add: o } : { add: o, backoffFn };
  }

  /**
   * Encodes every payload now, at the call: the codec's bytes are copied, so a Buffer the caller
   * rewrites (or a codec reusing its output) after this returns cannot change what is stored.
   */
  private encode(payloads: readonly T[], o: ResolvedAdd): NewJob[] {
    return payloads.map((payload, index) => {
      const { bytes, format } = this.codec.encode(payload);
      if (bytes.byteLength > this.ctx.maxPayloadBytes) {
        throw new SpoolError(
          "PAYLOAD_TOO_LARGE",
          `payload${payloads.length > 1 ? ` #${index}` : ""} is ${bytes.byteLength} bytes; maxPayloadBytes allows ${this.ctx.maxPayloadBytes}`,
        );
      }
      return { payload: bytes, format, ...o };
    });
  }

  /** Atomically takes the next ready job, or null when none is ready. */
  async reserve(options?: { lease?: number }): Promise<Job<T> | null> {
    const [job] = await this.reserveBatch(1, options);
    return job ?? null;
  }

  /** Takes up to `limit` ready jobs in order. */
  async reserveBatch(limit: number, options?: { lease?: number }): Promise<Job<T>[]> {
    checkInteger(limit, "limit", 1);
    const o = checkObject(options, "reserve options");
    checkKnownKeys(o, ["lease"], "reserve");
    const lease = o.lease === undefined ? this.lease : checkPositiveDuration(o.lease, "lease");
    this.ctx.assertOpen();
    const rows = await this.ctx.backend.claim(this.name, limit, lease);
    const jobs: Job<T>[] = [];
    for (const [i, row] of rows.entries()) {
      try {
        jobs.push(this.toJob(row));
      } catch (cause) {
        // One bad payload never blocks the queue: it goes dead, the rest go back untouched.
        await this.bury(row, cause);
        const held = rows.filter((_, j) => j !== i).map(heldRef);
        // None of them reached the caller: handed back unstarted, they keep their ttl.
        if (held.length > 0) await this.ctx.backend.release(this.name, held, false);
        throw this.decodeError(row, cause);
      }
    }
    return jobs;
  }

  /** @internal decodes a claimed row; throws the codec's error. */
  toJob(row: StoredJob): Job<T> {
    const job: Job<T> = {
      id: row.id,
      queue: row.queue,
      payload: this.codec.decode(row.payload, row.format),
      attempts: row.attempts,
      maxAttempts: row.maxAttempts,
      priority: row.priority,
      createdAt: new Date(row.createdAt),
      runAt: new Date(row.runAt),
      leaseUntil: new Date(row.leaseUntil ?? 0),
    };
    if (row.key !== null) job.key = row.key;
    job.token = row.claims;
    return job;
  }

  /** @internal a claimed job whose payload cannot be decoded becomes dead with the error. */
  async bury(row: StoredJob, cause: unknown): Promise<void> {
    await this.ctx.backend.fail(this.name, row.id, rowHold(row), `decode failed: ${errorText(cause)}`, null);
    this.forget(row.id);
  }

  /** @internal */
  decodeError(row: StoredJob, cause: unknown): SpoolError {
    return new SpoolError(
      "DECODE",
      `job ${row.id} of queue "${this.name}" could not be decoded: ${errorText(cause)}; it is now dead`,
      {
        cause,
        jobId: row.id,
      },
    );
  }

  /** Marks a reserved job completed, keeping `result`. */
  async complete(job: Job<T> | number, result?: unknown): Promise<void> {
    const [id, hold] = this.held(job);
    const stored = encodeResult(result);
    this.ctx.assertOpen();
    this.check(await this.completeHeld(id, hold, stored), id, "complete");
  }

  /**
   * @internal The one completion of a held job, for `complete` and workers alike. The queue's
   * stored retention decides whether it is kept (whatever this handle stated: settings.ts). The
   * backend is called in this same turn when that retention is at hand, so a worker's
   * completions of one turn share one SQLite transaction.
   */
  completeHeld(id: number, hold: Hold, stored: StoredResult | null): Promise<HeldOutcome> {
    const done = (retention: { completed: number }) =>
      this.ctx.backend.complete(this.name, id, hold, stored, retention.completed > 0).then((outcome) => {
        if (outcome === "ok") this.forget(id);
        return outcome;
      });
    const retention = this.ctx.settings.retention(this.name);
    return retention instanceof Promise ? retention.then(done) : done(retention);
  }

  /**
   * @internal The one failure of a held job, for `fail` and workers alike: dead once its
   * attempts are spent, else pending after `retryIn` or its backoff (retryDelayFor), with the
   * error's one stored text.
   */
  async failHeld(
    row: { id: number; attempts: number; maxAttempts: number; backoff: string | null },
    hold: Hold,
    error: unknown,
    retryIn?: number,
  ): Promise<{ outcome: HeldOutcome; state: "pending" | "dead" }> {
    const dead = row.attempts >= row.maxAttempts;
    const delay = dead ? null : (retryIn ?? this.retryDelayFor(row, error));
    const outcome = await this.ctx.backend.fail(this.name, row.id, hold, errorText(error), delay);
    if (outcome === "ok") {
      if (dead) this.forget(row.id);
      else this.ctx.signal(this.name);
    }
    return { outcome, state: dead ? "dead" : "pending" };
  }

  /** Fails a reserved job: pending again after its backoff, or dead once attempts are spent. */
  async fail(
    job: Job<T> | number,
    error?: unknown,
    options?: { retryIn?: number },
  ): Promise<"pending" | "dead"> {
    const [id, hold] = this.held(job);
    const { attempt } = hold;
    const o = checkObject(options, "fail options");
    checkKnownKeys(o, ["retryIn"], "fail");
    const retryIn = o.retryIn === undefined ? undefined : checkDuration(o.retryIn, "retryIn");
    this.ctx.assertOpen();
    const row = await this.ctx.backend.get(this.name, id);
    if (row === null) throw this.lost("not_found", id, "fail");
    if (row.state !== "reserved" || (attempt !== null && row.attempts !== attempt))
      throw this.lost("lease_lost", id, "fail");
    const { outcome, state } = await this.failHeld(
      row,
      { attempt: row.attempts, token: hold.token },
      error,
      retryIn,
    );
    this.check(outcome, id, "fail");
    return state;
  }

  /** Pushes the lease of a reserved job out to now + `ms`. */
  async extend(job: Job<T> | number, ms: number): Promise<void> {
    const [id, hold] = this.held(job);
    const lease = checkPositiveDuration(ms, "extend ms");
    this.ctx.assertOpen();
    this.check(await this.ctx.backend.extend(this.name, id, hold, lease), id, "extend");
    if (typeof job === "object") job.leaseUntil = new Date(Date.now() + lease);
  }

  private held(job: Job<T> | number): [number, Hold] {
    if (typeof job === "number") return [checkId(job), { attempt: null, token: null }];
    if (job === null || typeof job !== "object") {
      throw new SpoolError("INVALID_ARGUMENT", `expected a Job or a job id, got ${show(job)}`);
    }
    return [checkId(job.id), holdOf(job)];
  }

  private check(outcome: HeldOutcome, id: number, what: string): void {
    if (outcome !== "ok") throw this.lost(outcome, id, what);
  }

  private lost(outcome: "lease_lost" | "not_found", id: number, what: string): SpoolError {
    if (outcome === "not_found") {
      return new SpoolError("NOT_FOUND", `cannot ${what} job ${id}: queue "${this.name}" has no such job`, {
        jobId: id,
      });
    }
    return leaseLostError(this.name, id, what);
  }

  /** Any job of this queue in any state, or null. */
  async get(id: number): Promise<JobInfo<T> | null> {
    checkId(id);
    this.ctx.assertOpen();
    const row = await this.ctx.backend.get(this.name, id);
    return row === null ? null : this.toInfo(row);
  }

  /** @internal */
  toInfo(row: StoredJob): JobInfo<T> {
    const info: JobInfo<T> = {
      id: row.id,
      queue: row.queue,
      state: row.state,
      payload: decodeLenient(this.codec, row.payload, row.format) as T,
      attempts: row.attempts,
      maxAttempts: row.maxAttempts,
      priority: row.priority,
      createdAt: new Date(row.createdAt),
      runAt: new Date(row.runAt),
    };
    if (row.key !== null) info.key = row.key;
    if (row.leaseUntil !== null && row.state === "reserved") info.leaseUntil = new Date(row.leaseUntil);
    if (row.lastError !== null) info.lastError = row.lastError;
    if (row.finishedAt !== null) info.finishedAt = new Date(row.finishedAt);
    if (row.result !== null) info.result = decodeResult({ bytes: row.result, format: row.resultFormat ?? 0 });
    return info;
  }

  /** Counts by state. */
  async size(): Promise<QueueSize> {
    this.ctx.assertOpen();
    return this.ctx.backend.counts(this.name);
  }

  /** Age in ms of the oldest job ready to run, or null when none is. */
  async oldestPendingAge(): Promise<number | null> {
    this.ctx.assertOpen();
    return this.ctx.backend.oldestPendingAge(this.name);
  }

  /** Jobs of one state in id order, after id `after`. */
  async list(options: { state: JobState; limit?: number; after?: number }): Promise<JobInfo<T>[]> {
    const { state, limit, after } = this.listArgs(options);
    const rows = await this.ctx.backend.list(this.name, state, limit, after);
    return rows.map((row) => this.toInfo(row));
  }

  /** The checked arguments of `list` and `listPreviews`. */
  private listArgs(options: unknown): { state: JobState; limit: number; after: number } {
    const o = checkObject(options, "list options");
    checkKnownKeys(o, ["state", "limit", "after"], "list");
    const state = checkState(o.state);
    const limit = o.limit === undefined ? 100 : checkInteger(o.limit, "limit", 1);
    const after = o.after === undefined ? 0 : checkInteger(o.after, "after", 0);
    this.ctx.assertOpen();
    return { state, limit, after };
  }

  /**
   * @internal For the dashboard and the CLI: `list` as stored rows whose payload, result and
   * error are cut to `preview` bytes by the store's query (full sizes in `sizes`), undecoded.
   */
  async listPreviews(options: { state: JobState; limit?: number; after?: number }, preview: number) {
    const bytes = checkInteger(preview, "preview", 0);
    const { state, limit, after } = this.listArgs(options);
    return this.ctx.backend.list(this.name, state, limit, after, bytes);
  }

  /** Dead jobs back to pending with attempts restarted: all of them, or those of `ids`. */
  async retry(ids?: readonly number[]): Promise<number> {
    if (ids !== undefined && !Array.isArray(ids)) {
      throw new SpoolError("INVALID_ARGUMENT", `retry takes an array of job ids, got ${show(ids)}`);
    }
    const list = ids === undefined ? null : ids.map((id) => checkId(id));
    this.ctx.assertOpen();
    if (list !== null && list.length === 0) return 0;
    const moved = await this.ctx.backend.retry(this.name, list);
    if (moved > 0) this.ctx.signal(this.name);
    return moved;
  }

  /** Deletes one job whatever its state; false when there was none. */
  async remove(id: number): Promise<boolean> {
    checkId(id);
    this.ctx.assertOpen();
    this.forget(id);
    return this.ctx.backend.remove(this.name, id);
  }

  /** Deletes completed or dead jobs, optionally only those finished more than `olderThan` ms ago. */
  async purge(options: { state: "completed" | "dead"; olderThan?: number }): Promise<number> {
    const o = checkObject(options, "purge options");
    checkKnownKeys(o, ["state", "olderThan"], "purge");
    if (o.state !== "completed" && o.state !== "dead") {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `purge state must be "completed" or "dead", got ${show(o.state)}`,
      );
    }
    const olderThan = o.olderThan === undefined ? null : checkDuration(o.olderThan, "olderThan");
    this.ctx.assertOpen();
    return this.ctx.backend.purge(this.name, o.state, olderThan);
  }

  /** Deletes every job of this queue. */
  async clear(): Promise<void> {
    this.ctx.assertOpen();
    await this.ctx.backend.clear(this.name, false);
    this.jobBackoffs.clear();
    this.ctx.signal(this.name);
  }

  /** Starts a worker running `handler` on this queue's jobs. */
  process(handler: WorkerHandler<T>, options?: WorkerOptions): Worker<T> {
    this.ctx.assertOpen();
    const worker = new Worker(this, handler, options);
    // Only a worker that exists makes this Spool one that works the queue (and prunes it).
    this.ctx.settings.works(this.name);
    return worker;
  }

  /**
   * @internal The retry delay after the job's current attempt failed, by the one rule that
   * queue.fail and the worker share: the job's own backoff (a per-add function held here, else
   * the policy stored with it), then the queue's default, then the built-in exponential one.
   */
  retryDelayFor(row: { id: number; attempts: number; backoff: string | null }, error: unknown): number {
    return backoffDelay([this.jobBackoffs.get(row.id), row.backoff, this.queueBackoff], row.attempts, error);
  }

  /** @internal a job this object saw finish needs its in-memory backoff no more. */
  forget(id: number): void {
    this.jobBackoffs.delete(id);
  }
}
