// Queue<T>: the contract's job operations. Validation, defaults and codecs live here; what
// becomes of a held job (completion, failure, retry delay, burial) lives in held.ts, shared
// with the worker; each storage change is one backend transition.
import { checkRetention, QUEUE_KEYS, queueDefaults } from "./add-options.js";
import { Adder } from "./adder.js";
import type { HeldOutcome, Hold, NewJob, StoredJob } from "./backend.js";
import { decodeLenient, decodeResult, encodeResult, type PayloadCodec, resolveCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { decodeError, leaseLostError, notFoundError, SpoolError, show } from "./errors.js";
import { HeldJobs } from "./held.js";
import { parseProgress } from "./progress.js";
import { readPaused, storePaused, storeProgress } from "./queue-control.js";
import { startScheduler } from "./scheduler.js";
import { checkSchema } from "./schema.js";
import { heldRef, holdOf } from "./tokens.js";
import type {
  AddCallOptions,
  AddOptions,
  Job,
  JobInfo,
  JobProgress,
  JobState,
  QueueOptions,
  QueueSize,
  Retention,
} from "./types.js";
import {
  checkDuration,
  checkId,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPositiveDuration,
  checkState,
  MAX_COUNT,
} from "./validate.js";
import { Worker } from "./worker.js";
import { claimJobs } from "./worker-claims.js";
import type { WorkerHandler, WorkerOptions } from "./worker-options.js";

export const DEFAULT_LEASE = 30_000;

/**
 * A queue's jobs. `T` is the payload a handler receives; `In` what `add` takes: the same, except
 * on a queue with a `schema`, whose input type `add` takes and whose output type is stored.
 */
export class Queue<T = unknown, In = T> {
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
  /** @internal completions, failures and burials of this queue's held jobs, shared with workers. */
  readonly held: HeldJobs<T>;
  /** Validation, encoding and the adds themselves (adder.ts). */
  private readonly adder: Adder<T, In>;

  /** Not for users: `spool.queue(name, defaults)` makes a Queue. */
  constructor(ctx: SpoolContext, name: string, options: QueueOptions<T> | undefined) {
    this.ctx = ctx;
    this.name = name;
    const o = checkObject(options, "queue options");
    checkKnownKeys(o, QUEUE_KEYS, "queue");
    const { defaults, backoff } = queueDefaults(o);
    this.lease = o.lease === undefined ? DEFAULT_LEASE : checkPositiveDuration(o.lease, "lease");
    this.codec = resolveCodec(o.codec as QueueOptions<T>["codec"]);
    this.retention = checkRetention(o.retention);
    const schema = o.schema === undefined ? null : checkSchema(o.schema);
    this.held = new HeldJobs(ctx, name, this.codec, backoff);
    this.adder = new Adder(ctx, name, this.codec, this.held, defaults, schema);
  }

  /** Adds one job; resolves with its id once committed (or the id of a job with the same key). */
  add(payload: In, options?: AddCallOptions): Promise<number> {
    return this.adder.add(payload, options);
  }

  /** Adds every payload in one transaction: all are added or none. */
  addBatch(payloads: readonly In[], options?: AddCallOptions): Promise<number[]> {
    return this.adder.addBatch(payloads, options);
  }

  /**
   * Adds one job at once, with no promise: for code inside a synchronous better-sqlite3
   * transaction. On a Spool opened on the application's Database, the add joins that
   * connection's open transaction (committed or rolled back with it); otherwise it commits
   * before returning. SQLite only (see adder.ts).
   */
  addSync(payload: In, options?: AddOptions): number {
    return this.adder.addSync(payload, options);
  }

  /** @internal shared by add, addBatch and the channel's sender. */
  insert(payloads: readonly T[], options: AddOptions | undefined, maxSize?: number): Promise<number[]> {
    return this.adder.insert(payloads, options, maxSize);
  }

  /** @internal a flow's job, validated and encoded (see Adder.prepareChecked). */
  prepareChecked(payload: In, options: AddOptions | undefined): Promise<NewJob> {
    return this.adder.prepareChecked(payload, options);
  }

  /** @internal validates and encodes before anything is written. */
  prepare(payloads: readonly T[], options: AddOptions | undefined): NewJob[] {
    return this.adder.prepare(payloads, options);
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
    const rows = await claimJobs(this, limit, lease);
    const jobs: Job<T>[] = [];
    for (const [i, row] of rows.entries()) {
      try {
        jobs.push(this.held.toJob(row));
      } catch (cause) {
        // One bad payload never blocks the queue: it goes dead, the rest go back untouched.
        await this.held.bury(row, cause);
        const held = rows.filter((_, j) => j !== i).map(heldRef);
        // None of them reached the caller: handed back unstarted, they keep their ttl.
        if (held.length > 0) await this.ctx.backend.release(this.name, held, false);
        throw decodeError(this.name, row.id, cause);
      }
    }
    return jobs;
  }

  /** Marks a reserved job completed, keeping `result`. */
  async complete(job: Job<T> | number, result?: unknown): Promise<void> {
    const [id, hold] = this.holder(job);
    const stored = encodeResult(result);
    this.ctx.assertOpen();
    this.check(await this.held.complete(id, hold, stored), id, "complete");
  }

  /** Fails a reserved job: pending again after its backoff, or dead once attempts are spent. */
  async fail(
    job: Job<T> | number,
    error?: unknown,
    options?: { retryIn?: number },
  ): Promise<"pending" | "dead"> {
    const [id, hold] = this.holder(job);
    const { attempt } = hold;
    const o = checkObject(options, "fail options");
    checkKnownKeys(o, ["retryIn"], "fail");
    const retryIn = o.retryIn === undefined ? undefined : checkDuration(o.retryIn, "retryIn");
    this.ctx.assertOpen();
    const row = await this.ctx.backend.get(this.name, id);
    if (row === null) throw this.lost("not_found", id, "fail");
    if (row.state !== "reserved" || (attempt !== null && row.attempts !== attempt)) {
      this.held.meter.refused("lease_lost");
      throw this.lost("lease_lost", id, "fail");
    }
    const { outcome, state } = await this.held.fail(
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
    const [id, hold] = this.holder(job);
    const lease = checkPositiveDuration(ms, "extend ms");
    this.ctx.assertOpen();
    const outcome = await this.ctx.backend.extend(this.name, id, hold, lease);
    this.held.meter.refused(outcome);
    this.check(outcome, id, "extend");
    if (typeof job === "object") job.leaseUntil = new Date(Date.now() + lease);
  }

  /**
   * Stores the progress of a reserved job (a number 0–100 or a plain JSON object up to 64 KiB),
   * lease-checked like `extend`; `get` and `list` show it, kept across retries.
   */
  async progress(job: Job<T> | number, value: JobProgress): Promise<void> {
    await this.storedProgress(job, value);
  }

  /** @internal `progress`, resolving with the value as stored (the worker's "progress" event). */
  storedProgress(job: Job<T> | number, value: JobProgress): Promise<JobProgress> {
    const [id, hold] = this.holder(job);
    return storeProgress(this, id, hold, value);
  }

  /** Stops workers in every process from claiming this queue's jobs; running ones finish. */
  pause(): Promise<void> {
    return storePaused(this, true);
  }

  /** Lets workers claim again; idle ones wake at once. */
  resume(): Promise<void> {
    return storePaused(this, false);
  }

  /** Whether the queue is paused (for every process: the pause is stored). */
  isPaused(): Promise<boolean> {
    return readPaused(this);
  }

  /** The id a holder names and the hold it can prove (none for a bare id). */
  private holder(job: Job<T> | number): [number, Hold] {
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
    return outcome === "not_found" ? notFoundError(this.name, id, what) : leaseLostError(this.name, id, what);
  }

  /** Any job of this queue in any state, or null. */
  async get(id: number): Promise<JobInfo<T> | null> {
    checkId(id);
    this.ctx.assertOpen();
    const row = await this.ctx.backend.get(this.name, id);
    return row === null ? null : this.toInfo(row);
  }

  /**
   * The results of job `id`'s completed dependencies (AddOptions.dependsOn), by id; what a
   * handler's `context.results()` returns, for jobs taken with `reserve`. Empty when it has none.
   */
  async results(id: number): Promise<Record<number, unknown>> {
    checkId(id);
    this.ctx.assertOpen();
    const out: Record<number, unknown> = {};
    for (const dep of await this.ctx.backend.dependencies(this.name, id)) {
      if (dep.done) out[dep.id] = decodeResult(dep.result);
    }
    return out;
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
      progress: parseProgress(row.progress),
    };
    if (row.key !== null) info.key = row.key;
    if (row.group != null) info.group = row.group;
    if (row.leaseUntil !== null && row.state === "reserved") info.leaseUntil = new Date(row.leaseUntil);
    if (row.lastError !== null) info.lastError = row.lastError;
    if (row.finishedAt !== null) info.finishedAt = new Date(row.finishedAt);
    if (row.result !== null) info.result = decodeResult({ bytes: row.result, format: row.resultFormat ?? 0 });
    if (row.dependsOn !== undefined && row.dependsOn.length > 0) info.dependsOn = row.dependsOn;
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
    // At most what PostgreSQL's substring takes (an int4), as on SQLite.
    const bytes = checkInteger(preview, "preview", 0, MAX_COUNT);
    const { state, limit, after } = this.listArgs(options);
    return this.ctx.backend.list(this.name, state, limit, after, bytes);
  }

  /**
   * @internal For the CLI: jobs of any of `states` with `after` < id <= `through`, in id order,
   * as stored rows cut like listPreviews', read in one snapshot (see Backend.browse).
   */
  async browsePreviews(
    states: readonly JobState[],
    range: { after: number; through?: number; limit: number },
    preview: number,
  ) {
    const bytes = checkInteger(preview, "preview", 0, MAX_COUNT);
    const list = states.map((s) => checkState(s));
    const after = checkInteger(range.after, "after", 0);
    const through = checkInteger(range.through ?? Number.MAX_SAFE_INTEGER, "through", 0);
    const limit = checkInteger(range.limit, "limit", 1);
    this.ctx.assertOpen();
    return this.ctx.backend.browse(this.name, list, { after, through, limit }, bytes);
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
    this.held.forget(id);
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
    this.held.forgetAll();
    this.ctx.signal(this.name);
  }

  /** Starts a worker running `handler` on this queue's jobs. */
  process(handler: WorkerHandler<T>, options?: WorkerOptions): Worker<T> {
    this.ctx.assertOpen();
    const worker = new Worker(this, handler, options);
    startScheduler(this.ctx); // any process running a worker fires the stored schedules
    // Only a worker that exists makes this Spool one that works the queue (and prunes it).
    this.ctx.settings.works(this.name);
    return worker;
  }
}
