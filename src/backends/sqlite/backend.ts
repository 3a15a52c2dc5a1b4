// The SQLite backend: each Backend transition as one statement or a few, inside the writer's
// shared IMMEDIATE transaction. Reads run directly (WAL readers never wait for the writer).
import type Database from "better-sqlite3";
import type {
  Backend,
  BackendOptions,
  Decoded,
  HeldOutcome,
  HeldRef,
  Hold,
  NewJob,
  PayloadFormat,
  QueueSettings,
  StoredJob,
  StoredResult,
  Taken,
} from "../../backend.js";
import type { Clock } from "../../clock.js";
import { SpoolError } from "../../errors.js";
import type { JobState, QueueSize } from "../../types.js";
import { isBusy, openDatabase, translate } from "./connection.js";
import { WalNotifier } from "./notifier.js";
import * as Q from "./queries.js";
import { Writer } from "./writer.js";

interface Row {
  id: number;
  queue: string;
  state: "pending" | "reserved" | "completed" | "dead";
  priority: number;
  run_at: number;
  payload: Buffer;
  format: number;
  attempts: number;
  claims: number;
  max_attempts: number;
  key: string | null;
  backoff: string | null;
  created_at: number;
  lease_until: number | null;
  expires_at: number | null;
  finished_at: number | null;
  last_error: string | null;
  result: Buffer | null;
  result_format: number | null;
}

/** The full lengths a preview list reads beside the cut columns. */
interface PreviewRow {
  payload_size: number;
  result_size: number | null;
  error_size: number | null;
}

function previewSizes(row: PreviewRow): NonNullable<StoredJob["sizes"]> {
  return { payload: row.payload_size, result: row.result_size, lastError: row.error_size };
}

interface SettingsRow {
  queue: string;
  retention_completed: number | null;
  retention_dead: number | null;
}

function toSettings(row: SettingsRow): QueueSettings {
  const { retention_completed: completed, retention_dead: dead } = row;
  return { retention: completed === null || dead === null ? null : { completed, dead } };
}

type Held = ReadonlyArray<HeldRef>;

/** Thrown inside a take's savepoint to undo it: an item of the batch could not be decoded. */
const UNDO = Symbol("undo the take");

/** How often a busy queue's claims also look for lapsed leases. */
const RESCUE_EVERY_MS = 250;

export class SqliteBackend implements Backend {
  readonly kind = "sqlite";
  readonly notifier: WalNotifier;
  private readonly db: Database.Database;
  private readonly writer: Writer;
  private readonly clock: Clock;
  private readonly path: string;
  private readonly busyTimeout: number;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lastRescue = new Map<string, number>();
  private closed = false;

  /** Opens `path` (see openDatabase) and serves it. */
  static async open(path: string, options: BackendOptions): Promise<SqliteBackend> {
    return new SqliteBackend(path, await openDatabase(path, options), options);
  }

  private constructor(path: string, db: Database.Database, options: BackendOptions) {
    this.path = path;
    this.db = db;
    this.clock = options.clock;
    this.busyTimeout = options.busyTimeout;
    this.writer = new Writer(this.db, path, options.busyTimeout);
    this.notifier = new WalNotifier(this.db, path, options.crossProcessWakeups);
  }

  /** Prepared once per statement text. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private toStored(row: Row, now: number): StoredJob {
    return {
      id: row.id,
      queue: row.queue,
      state: row.state === "pending" && row.run_at > now ? "delayed" : row.state,
      payload: row.payload,
      format: row.format as PayloadFormat,
      priority: row.priority,
      attempts: row.attempts,
      claims: row.claims,
      maxAttempts: row.max_attempts,
      key: row.key,
      backoff: row.backoff,
      createdAt: row.created_at,
      runAt: row.run_at,
      leaseUntil: row.lease_until,
      finishedAt: row.finished_at,
      lastError: row.last_error,
      result: row.result,
      resultFormat: row.result_format as PayloadFormat | null,
    };
  }

  /**
   * A read, retried on the rare busy answer (another process's WAL recovery) without blocking
   * the loop, for up to busyTimeout like a write.
   */
  private async read<T>(run: () => T): Promise<T> {
    this.assertOpen();
    const started = Date.now();
    for (;;) {
      try {
        return run();
      } catch (error) {
        if (!isBusy(error) || Date.now() - started >= this.busyTimeout) throw translate(error, this.path);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }

  private write<T>(run: () => T): Promise<T> {
    this.assertOpen();
    return this.writer.write(run);
  }

  /** A write that may delete rows: keeps the highest id taken (see PLACEHOLDER). */
  private writeDeleting<T>(run: () => T): Promise<T> {
    return this.write(() => {
      const before = (this.sql(Q.MAX_ID).get() as { id: number | null }).id;
      const result = run();
      const after = (this.sql(Q.MAX_ID).get() as { id: number | null }).id;
      if (before !== null && (after === null || after < before)) {
        this.sql(Q.PLACEHOLDER).run({ id: before });
        this.sql(Q.DROP_PLACEHOLDERS).run({ id: before });
      }
      return result;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new SpoolError("CLOSED", "this Spool is closed: open it again to use it");
  }

  enqueue(queue: string, jobs: NewJob[], maxSize?: number): Promise<number[] | null> {
    return this.write(() => this.insertJobs(queue, jobs, maxSize));
  }

  enqueueSync(queue: string, jobs: NewJob[], maxSize?: number): number[] | null {
    this.assertOpen();
    return this.writer.writeSync(() => this.insertJobs(queue, jobs, maxSize));
  }

  private insertJobs(queue: string, jobs: NewJob[], maxSize?: number): number[] | null {
    if (maxSize !== undefined) {
      const { n } = this.sql(Q.BACKLOG).get({ queue }) as { n: number };
      if (n + jobs.length > maxSize) return null;
    }
    const now = this.clock();
    // Before the batch, once per key: a job past its ttl can never run, nor can one whose last
    // lease lapsed with its attempts spent (dead in truth); neither may swallow this add.
    const keys = new Set<string>();
    for (const job of jobs) if (job.key !== null) keys.add(job.key);
    for (const key of keys) {
      this.sql(Q.RESCUE_KEYED).run({ queue, key, now });
      this.sql(Q.EXPIRE_KEYED).run({ queue, key, now });
    }
    const insert = this.sql(Q.INSERT_JOB);
    return jobs.map((job) => {
      const runAt = job.runAt ?? now + job.delayMs;
      const { changes, lastInsertRowid } = insert.run(
        queue,
        job.priority,
        runAt,
        job.payload,
        job.format,
        job.maxAttempts,
        job.key,
        job.backoff,
        now,
        job.ttlMs === null ? null : runAt + job.ttlMs,
      );
      if (changes > 0) return Number(lastInsertRowid);
      // The insert met a live job with the same key: that job stands for this one.
      return (this.sql(Q.FIND_KEYED).get({ queue, key: job.key }) as { id: number }).id;
    });
  }

  /**
   * Lapsed leases back to pending (or dead), and never-started jobs past their ttl dead with
   * "expired". It runs inside claims, but at most every RESCUE_EVERY_MS per queue while claims
   * find work: a lapsed job waits that much longer at worst, and a busy queue does not pay for
   * the scans on every claim (the claim itself never serves an expired job). A claim that comes
   * back short always runs it; returns how many jobs became ready again.
   */
  private rescue(queue: string, now: number, force: boolean): number {
    const last = this.lastRescue.get(queue) ?? 0;
    if (!force && now - last < RESCUE_EVERY_MS) return 0;
    this.lastRescue.set(queue, now);
    this.sql(Q.EXPIRE).run({ queue, now });
    return this.sql(Q.RESCUE_LEASES).run({ queue, now }).changes;
  }

  /**
   * Inside a write, before a transition that tells dead jobs from live ones (retry, purge of
   * dead jobs, a clear that keeps dead letters): jobs dead in truth (past their ttl, or a
   * lapsed lease on their last attempt) are made so first, not left to the next claim.
   */
  private settle(queue: string, now: number): void {
    this.rescue(queue, now, true);
  }

  private claimOrTake(queue: string, limit: number, now: number, pick: (n: number) => Row[]) {
    this.rescue(queue, now, false);
    const rows = pick(limit);
    if (rows.length < limit && this.rescue(queue, now, true) > 0) rows.push(...pick(limit - rows.length));
    return this.ordered(rows, now);
  }

  claim(queue: string, limit: number, leaseMs: number): Promise<StoredJob[]> {
    return this.write(() => {
      const now = this.clock();
      const lease_until = now + leaseMs;
      const one = this.sql(Q.CLAIM_ONE);
      const many = this.sql(Q.CLAIM);
      return this.claimOrTake(
        queue,
        limit,
        now,
        (n) =>
          (n === 1
            ? one.all({ queue, now, lease_until })
            : many.all({ queue, now, limit: n, lease_until })) as Row[],
      );
    });
  }

  take<T>(queue: string, limit: number, decode: (job: StoredJob) => Decoded<T>): Promise<Taken<T>> {
    return this.writeDeleting(() => {
      const now = this.clock();
      const one = this.sql(Q.TAKE_ONE);
      const many = this.sql(Q.TAKE);
      const failed: [StoredJob, Extract<Decoded<T>, { error: string }>][] = [];
      const items: T[] = [];
      // A savepoint inside the writer's transaction: when an item cannot be decoded, the take
      // is undone to it, so the good rows stay exactly as they were (id, key, ttl, place).
      const takeAll = this.db.transaction(() => {
        const jobs = this.claimOrTake(
          queue,
          limit,
          now,
          (n) => (n === 1 ? one.all({ queue, now }) : many.all({ queue, now, limit: n })) as Row[],
        );
        for (const job of jobs) {
          const decoded = decode(job);
          if ("item" in decoded) items.push(decoded.item);
          else failed.push([job, decoded]);
        }
        if (failed.length > 0) throw UNDO;
      });
      try {
        takeAll();
        return { items, failed: null };
      } catch (error) {
        if (error !== UNDO) throw error;
      }
      const bury = this.sql(Q.BURY_UNDECODABLE);
      for (const [job, { error }] of failed) bury.run({ id: job.id, now, error });
      const [job, { cause }] = failed[0] as (typeof failed)[number];
      return { items: [], failed: { job, cause } };
    });
  }

  /** RETURNING gives no order guarantee; the claim's order is restored here. */
  private ordered(rows: Row[], now: number): StoredJob[] {
    if (rows.length > 1) {
      rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
    }
    return rows.map((row) => this.toStored(row, now));
  }

  /** Runs a held-job transition; on no change, tells a lost lease from a missing job. */
  private held(
    queue: string,
    id: number,
    statement: string,
    params: Record<string, unknown>,
  ): Promise<HeldOutcome> {
    const write = statement === Q.COMPLETE_DELETE ? this.writeDeleting : this.write;
    return write.call<SqliteBackend, [() => HeldOutcome], Promise<HeldOutcome>>(this, (): HeldOutcome => {
      const { changes } = this.sql(statement).run({ queue, id, now: this.clock(), ...params });
      if (changes > 0) return "ok";
      return this.sql(Q.EXISTS).get({ queue, id }) === undefined ? "not_found" : "lease_lost";
    });
  }

  complete(queue: string, id: number, hold: Hold, result: StoredResult | null, keep: boolean) {
    if (!keep) return this.held(queue, id, Q.COMPLETE_DELETE, { ...hold });
    return this.held(queue, id, Q.COMPLETE_KEEP, {
      ...hold,
      result: result?.bytes ?? null,
      result_format: result?.format ?? null,
    });
  }

  fail(queue: string, id: number, hold: Hold, error: string, retryInMs: number | null) {
    if (retryInMs === null) return this.held(queue, id, Q.FAIL_DEAD, { ...hold, error });
    return this.held(queue, id, Q.FAIL_RETRY, { ...hold, error, retry_in: Math.round(retryInMs) });
  }

  extend(queue: string, id: number, hold: Hold, leaseMs: number) {
    return this.held(queue, id, Q.EXTEND, { ...hold, lease_until: this.clock() + leaseMs });
  }

  extendMany(queue: string, held: Held, leaseMs: number): Promise<number[]> {
    return this.write(() => {
      const now = this.clock();
      const statement = this.sql(Q.EXTEND);
      return held
        .filter(
          ({ id, token }) =>
            statement.run({ queue, id, token, attempt: null, now, lease_until: now + leaseMs }).changes === 0,
        )
        .map(({ id }) => id);
    });
  }

  release(queue: string, held: Held, started: boolean): Promise<void> {
    return this.write(() => {
      const statement = this.sql(Q.RELEASE);
      for (const { id, token } of held) statement.run({ queue, id, token, started: started ? 1 : 0 });
    });
  }

  get(queue: string, id: number): Promise<StoredJob | null> {
    return this.read(() => {
      const row = this.sql(Q.GET).get({ queue, id }) as Row | undefined;
      return row === undefined ? null : this.toStored(row, this.clock());
    });
  }

  list(
    queue: string,
    state: JobState,
    limit: number,
    afterId: number,
    previewBytes?: number,
  ): Promise<StoredJob[]> {
    return this.read(() => {
      const now = this.clock();
      const cut = previewBytes === undefined ? {} : { preview: previewBytes };
      const sql = (text: string) => this.sql(previewBytes === undefined ? text : Q.withPreview(text));
      const params = { queue, limit, after: afterId, now, ...cut };
      let rows: Row[];
      if (state === "pending") rows = sql(Q.LIST_READY).all(params) as Row[];
      else if (state === "delayed") rows = sql(Q.LIST_DELAYED).all(params) as Row[];
      else if (state === "completed")
        rows = sql(Q.LIST_COMPLETED).all({ queue, limit, after: afterId, ...cut }) as Row[];
      else rows = sql(Q.LIST_STATE).all({ queue, limit, after: afterId, state, ...cut }) as Row[];
      return rows.map((row) => {
        const job = this.toStored(row, now);
        if (previewBytes !== undefined) {
          job.sizes = previewSizes(row as Row & PreviewRow);
          // substr() of an empty blob is NULL, not an empty blob.
          if (job.payload === null) job.payload = Buffer.alloc(0);
          if (job.result === null && job.sizes.result !== null) job.result = Buffer.alloc(0);
        }
        return job;
      });
    });
  }

  counts(queue: string): Promise<QueueSize> {
    // One read transaction: the two counts come from one snapshot, so a job another process
    // moves between them is counted once, not twice or never.
    const countAll = this.db.transaction(() => {
      const size: QueueSize = { pending: 0, delayed: 0, reserved: 0, completed: 0, dead: 0, total: 0 };
      for (const { state, n } of this.sql(Q.COUNTS).all({ queue }) as { state: Row["state"]; n: number }[]) {
        size[state] = n;
        size.total += n;
      }
      const pending = this.sql(Q.COUNT_PENDING).get({ queue, now: this.clock() }) as {
        n: number;
        delayed: number;
      };
      size.delayed = pending.delayed;
      size.pending = pending.n - pending.delayed;
      size.total += pending.n;
      return size;
    });
    return this.read(() => countAll.deferred());
  }

  queues(): Promise<string[]> {
    return this.read(() => (this.sql(Q.QUEUES).all() as { queue: string }[]).map((r) => r.queue));
  }

  nextDueIn(queue: string): Promise<number | null> {
    return this.read(() => {
      const { at } = this.sql(Q.NEXT_RUN_AT).get({ queue }) as { at: number | null };
      return at === null ? null : Math.max(0, at - this.clock());
    });
  }

  oldestPendingAge(queue: string): Promise<number | null> {
    return this.read(() => {
      const now = this.clock();
      const { at } = this.sql(Q.OLDEST_READY).get({ queue, now }) as { at: number | null };
      return at === null ? null : now - at;
    });
  }

  backlog(queue: string): Promise<number> {
    return this.read(() => (this.sql(Q.BACKLOG).get({ queue }) as { n: number }).n);
  }

  retry(queue: string, ids: number[] | null): Promise<number> {
    return this.write(() => {
      const now = this.clock();
      // Jobs dead in truth (spent lapsed leases, ttl past) are made so first: retry sees them.
      this.settle(queue, now);
      if (ids === null) return this.sql(Q.RETRY_ALL).run({ queue, now }).changes;
      const statement = this.sql(Q.RETRY_ONE);
      return ids.reduce((moved, id) => moved + statement.run({ queue, id, now }).changes, 0);
    });
  }

  remove(queue: string, id: number): Promise<boolean> {
    return this.writeDeleting(() => this.sql(Q.REMOVE).run({ queue, id }).changes > 0);
  }

  purge(queue: string, state: "completed" | "dead", olderThanMs: number | null): Promise<number> {
    return this.writeDeleting(() => {
      if (state === "dead") this.settle(queue, this.clock());
      const before = this.clock() - (olderThanMs ?? 0);
      return this.sql(Q.PURGE).run({ queue, state, before }).changes;
    });
  }

  clear(queue: string, keepDead: boolean): Promise<number> {
    return this.writeDeleting(() => {
      if (keepDead) this.settle(queue, this.clock());
      return this.sql(keepDead ? Q.CLEAR_LIVE : Q.CLEAR_ALL).run({ queue }).changes;
    });
  }

  readSettings(queue: string): Promise<QueueSettings | null> {
    return this.read(() => {
      const row = this.sql(Q.READ_SETTINGS).get({ queue }) as SettingsRow | undefined;
      return row === undefined ? null : toSettings(row);
    });
  }

  storeRetention(queue: string, retention: { completed: number; dead: number }): Promise<void> {
    return this.write(() => {
      this.sql(Q.STORE_RETENTION).run({ queue, ...retention, now: this.clock() });
    });
  }

  prune(queue: string, defaults: { completed: number; dead: number }): Promise<number> {
    // One IMMEDIATE transaction: the retention read here is the one in force while deleting.
    return this.writeDeleting(() => {
      const row = this.sql(Q.READ_SETTINGS).get({ queue }) as SettingsRow | undefined;
      const retention = (row === undefined ? null : toSettings(row).retention) ?? defaults;
      const now = this.clock();
      const purge = this.sql(Q.PURGE);
      return (
        purge.run({ queue, state: "completed", before: now - retention.completed }).changes +
        purge.run({ queue, state: "dead", before: now - retention.dead }).changes
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.close();
    this.closed = true;
    this.notifier.close();
    this.db.close();
  }
}
