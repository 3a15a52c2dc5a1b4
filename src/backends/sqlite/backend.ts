// The SQLite backend: each Backend transition as one statement or a few, inside the writer's
// shared IMMEDIATE transaction. Reads (reads.ts) run directly: WAL readers never wait for the
// writer. Time is the process clock (options.clock): SQLite serves one machine.
import type BetterSqlite3 from "better-sqlite3";
import {
  type Backend,
  type BackendOptions,
  type BrowseRange,
  boundedCount,
  type ClaimBound,
  type Decoded,
  type ExtendedMany,
  type FlowInsert,
  type HeldOutcome,
  type HeldRef,
  type Hold,
  type LimitsPatch,
  type NewJob,
  type QueueSettings,
  type StoredDependency,
  type StoredJob,
  type StoredResult,
  type Taken,
  type TakenJob,
} from "../../backend.js";
import type { JobState, QueueSize } from "../../types.js";
import { RescueThrottle } from "../shared.js";
import { AppConnection } from "./app-connection.js";
import { completeAlone, type PendingCompletion, writeCompletions } from "./completions.js";
import { openDatabase, translate } from "./connection.js";
import { readDependencies } from "./dependencies.js";
import { addsAlone, enqueueAlone, insertJobs } from "./enqueue.js";
import { GroupCursors, groupTurnAlone, limitedClaim, limitedWait, storeLimits } from "./limited-claim.js";
import { WalNotifier } from "./notifier.js";
import * as Q from "./queries.js";
import * as reads from "./reads.js";
import {
  type PickedRow,
  type TakenRow,
  toClaimOrder,
  toPickedJob,
  toTakenJob,
  UnsafeIdError,
} from "./rows.js";
import { SqliteSchedules } from "./schedules.js";
import { Store } from "./store.js";
import { IN_TRANSACTION, type InTransaction } from "./writer.js";

type Held = ReadonlyArray<HeldRef>;

/** What a held-job statement binds (HELD in queries.ts), beside its own values. */
interface HeldParams extends Hold {
  queue: string;
  id: number;
  now: number;
}

/** Thrown inside a take's savepoint to undo it: an item of the batch could not be decoded. */
const UNDO = Symbol("undo the take");

export class SqliteBackend implements Backend {
  readonly kind = "sqlite";
  readonly claimsHoldThread = true;
  readonly notifier: WalNotifier;
  readonly schedules: SqliteSchedules;
  private readonly store: Store;
  private readonly rescues = new RescueThrottle();
  /** Where each grouped queue's round-robin stands in this process (limited-claim.ts). */
  private readonly cursors = new GroupCursors();
  /**
   * Queues this process last found limited: their claims run the limited claim first, not after
   * the plain CLAIM found it held (a statement less a claim). The limited claim reads the row
   * itself, so a queue no longer limited falls back to CLAIM and leaves the set.
   */
  private readonly limitedQueues = new Set<string>();
  /**
   * Of those, the queues last found grouped and bound by nothing else: a claim of one there is
   * one round-robin turn, tried alone first (groupTurnAlone).
   */
  private readonly onlyGroupedQueues = new Set<string>();

  /**
   * The application's own connection, when the Spool was opened on its Database: `enqueueSync`
   * runs there, inside the application's transaction (see app-connection.ts).
   */
  private readonly app: AppConnection | null;

  /**
   * Opens `path` (see openDatabase) and serves it. With `app`, the application's open Database
   * on that same file: Spool still works on a connection of its own, and adds on that one only
   * through `enqueueSync`.
   */
  static async open(
    path: string,
    options: BackendOptions,
    app?: BetterSqlite3.Database,
  ): Promise<SqliteBackend> {
    const db = await openDatabase(path, options);
    const store = new Store(db, path, options.clock, options.busyTimeout);
    return new SqliteBackend(
      store,
      options,
      app === undefined ? null : new AppConnection(app, path, options.busyTimeout),
    );
  }

  private constructor(store: Store, options: BackendOptions, app: AppConnection | null) {
    this.store = store;
    this.app = app;
    this.notifier = new WalNotifier(store.db, store.path, options.crossProcessWakeups);
    this.schedules = new SqliteSchedules(store);
  }

  private sql(text: string) {
    return this.store.sql(text);
  }

  private now(): number {
    return this.store.clock();
  }

  enqueue(
    queue: string,
    jobs: NewJob[],
    maxSize?: number,
    inserted: boolean[] = [],
  ): Promise<number[] | null> {
    // A plain add that meets no other write of this process runs as one autocommitted statement.
    const autocommit = addsAlone(jobs, maxSize)
      ? () => enqueueAlone(this.store, queue, jobs[0] as NewJob, this.now(), inserted)
      : undefined;
    return this.store.write(() => this.insertJobs(queue, jobs, maxSize, inserted), undefined, autocommit);
  }

  enqueueFlow(jobs: readonly FlowInsert[]): Promise<number[]> {
    return this.store.write(() => {
      const now = this.now();
      const ids: number[] = [];
      for (const { queue, job, children } of jobs) {
        const dependsOn = [...(job.dependsOn ?? []), ...children.map((i) => ids[i] as number)];
        const linked = {
          ...job,
          dependsOn: dependsOn.length === 0 ? null : [...new Set(dependsOn)].sort((a, b) => a - b),
        };
        const [id] = insertJobs(this.store, queue, [linked], now) as number[];
        ids.push(id as number);
      }
      return ids;
    });
  }

  dependencies(queue: string, id: number): Promise<StoredDependency[]> {
    return this.store.read(() => readDependencies(this.store, queue, id));
  }

  enqueueSync(
    queue: string,
    jobs: NewJob[],
    maxSize?: number,
    inserted?: boolean[],
    onApp = false,
  ): number[] | null {
    const { app } = this;
    if (app === null || !onApp)
      return this.store.writeSync(() => this.insertJobs(queue, jobs, maxSize, inserted));
    // Not after close(): the application's connection outlives the Spool, Spool's use of it not.
    this.store.assertOpen();
    return app.write(() => insertJobs(app, queue, jobs, this.now(), maxSize, inserted));
  }

  private insertJobs(queue: string, jobs: NewJob[], maxSize?: number, inserted?: boolean[]): number[] | null {
    return insertJobs(this.store, queue, jobs, this.now(), maxSize, inserted);
  }

  /**
   * The rescue (see shared.ts): lapsed leases back to pending (or dead), and never-started jobs
   * past their ttl dead with "expired". Returns how many jobs became ready again.
   */
  private rescue(queue: string, now: number): number {
    this.rescues.ran(queue, now);
    this.sql(Q.RESCUE_EXPIRED).run({ queue, now });
    return this.sql(Q.RESCUE_LEASES).run({ queue, now }).changes;
  }

  /**
   * A claim's or take's pick with the rescue around it: before it when the throttle says so;
   * after it when it came back short and the rescue did not just run, and then the pick again
   * for what the rescue returned. Here that costs no round trip: it is all one transaction.
   */
  private pickWithRescue<R extends PickedRow | TakenRow, J>(
    queue: string,
    limit: number,
    now: number,
    pick: (n: number) => R[],
    toJob: (row: R) => J,
    picked: () => number = () => 0,
  ): J[] {
    const rescuedFirst = this.rescues.isDue(queue, now);
    if (rescuedFirst) this.rescue(queue, now);
    const rows = pick(limit);
    // `picked`: rows a pick kept aside (a limited claim's), which count as found all the same.
    if (rows.length + picked() < limit && !rescuedFirst && this.rescue(queue, now) > 0) {
      rows.push(...pick(limit - rows.length - picked()));
    }
    return toClaimOrder(rows, toJob);
  }

  /**
   * A reserve by CLAIM_ONE alone, with no transaction around it (the writer's autocommit: see
   * Writer.write). Only when that is the whole claim: no rescue is due, and the queue is not
   * known limited, or known grouped and bound by nothing else (a round-robin turn alone, see
   * groupTurnAlone). A claim that found nothing changed nothing: IN_TRANSACTION then runs the
   * whole claim (a rescue after a short pick, the limited claim) in a transaction.
   */
  private claimAlone(queue: string, leaseMs: number): StoredJob[] | InTransaction {
    const now = this.now();
    if (this.rescues.isDue(queue, now)) return IN_TRANSACTION;
    const lease_until = now + leaseMs;
    if (this.limitedQueues.has(queue)) {
      if (!this.onlyGroupedQueues.has(queue)) return IN_TRANSACTION;
      const turn = groupTurnAlone(this.store, this.cursors, queue, now, lease_until);
      return turn === undefined ? IN_TRANSACTION : [toPickedJob(turn, queue, "reserved", lease_until)];
    }
    // all(), not get(): SQLite runs its WAL hook (the automatic checkpoint) only for a statement
    // stepped to its end, and get() resets a RETURNING statement at its row: the commit happens,
    // the checkpoint never does, and the WAL grew past 80 MB in a reserve loop.
    const [row] = this.store.rawSql(Q.CLAIM_ONE).all({ queue, now, lease_until }) as PickedRow[];
    if (row === undefined) return IN_TRANSACTION;
    return [toPickedJob(row, queue, "reserved", lease_until)];
  }

  claim(queue: string, limit: number, leaseMs: number, bound?: ClaimBound): Promise<StoredJob[]> {
    return this.quarantining(queue, this.claimRows(queue, limit, leaseMs, bound));
  }

  take<T>(queue: string, limit: number, decode: (job: TakenJob) => Decoded<T>): Promise<Taken<T>> {
    return this.quarantining(queue, this.takeRows(queue, limit, decode));
  }

  /**
   * `result`, or, when its claim or take met a job whose id a JS number cannot hold exactly
   * (UnsafeIdError: undone, nothing handed out), the same rejection once every such job of the
   * queue is dead: the next call goes on with the rest. node:sqlite reads such an id as an
   * error of its own (ERR_OUT_OF_RANGE, as for any integer past 2^53), which counts only when
   * the queue did hold such a job.
   */
  private quarantining<T>(queue: string, result: Promise<T>): Promise<T> {
    return result.catch((error: unknown) => {
      const unsafe = error instanceof UnsafeIdError;
      if (!unsafe && (error as { code?: unknown } | null)?.code !== "ERR_OUT_OF_RANGE") throw error;
      const reason = unsafe ? error : new UnsafeIdError(queue);
      return this.store
        .write(() => this.quarantine(queue, reason))
        .then((changes) => {
          throw unsafe || changes > 0 ? reason : error;
        });
    });
  }

  /** Makes every live job of `queue` with an id outside 1 … 2^53 − 1 dead; how many there were. */
  private quarantine(queue: string, reason: UnsafeIdError): number {
    return this.sql(Q.QUARANTINE_UNSAFE_IDS).run({ queue, now: this.now(), error: reason.message }).changes;
  }

  private claimRows(queue: string, limit: number, leaseMs: number, bound?: ClaimBound): Promise<StoredJob[]> {
    // A claim of one takes no bound into account (bounded() below keeps at least one job).
    const alone = limit === 1 ? () => this.claimAlone(queue, leaseMs) : undefined;
    return this.store.write(
      () => {
        const now = this.now();
        const lease_until = now + leaseMs;
        const one = this.store.rawSql(Q.CLAIM_ONE);
        const many = this.store.rawSql(Q.CLAIM);
        // What is left of the bound once earlier picks of this claim took their jobs.
        const left = bound === undefined ? undefined : { ...bound };
        // The bound cut the claim short: it found as many jobs as it may take (no rescue for that).
        let cut = false;
        const bounded = (n: number): number => {
          if (left === undefined || n <= Math.max(1, left.free)) return n;
          const lengths = this.store.pluckSql(Q.READY_LENGTHS).all({ queue, now, limit: n }) as number[];
          const k = boundedCount(lengths, left);
          if (k < lengths.length) cut = true;
          return k;
        };
        const spend = (rows: PickedRow[]): void => {
          if (left === undefined) return;
          left.free -= rows.length;
          for (const row of rows) left.bytes -= row[3].byteLength;
        };
        const toJob = (row: PickedRow) => toPickedJob(row, queue, "reserved", lease_until);
        // A limited queue's rows, kept aside: they come in the order to start them (a grouped
        // queue's round-robin), which the plain claim's sort would undo.
        const limited: PickedRow[] = [];
        const seen = { grouped: false, onlyGrouped: false };
        const limitedPick = (n: number): boolean => {
          const more = limitedClaim(this.store, this.cursors, queue, n, now, lease_until, seen);
          if (seen.onlyGrouped) this.onlyGroupedQueues.add(queue);
          else this.onlyGroupedQueues.delete(queue);
          if (more === null) return false;
          limited.push(...more);
          return true;
        };
        const pick = (n: number): PickedRow[] => {
          if (this.limitedQueues.has(queue)) {
            if (limitedPick(n)) return [];
            this.limitedQueues.delete(queue);
          }
          const k = bounded(n);
          const rows = (
            k === 0
              ? []
              : k === 1
                ? one.all({ queue, now, lease_until })
                : many.all({ queue, now, limit: k, lease_until })
          ) as PickedRow[];
          spend(rows);
          if (rows.length > 0) return rows;
          // Nothing: the queue may be limited, which CLAIM leaves to the limited claim.
          if (limitedPick(n)) this.limitedQueues.add(queue);
          return rows;
        };
        const jobs = this.pickWithRescue(queue, limit, now, pick, toJob, () =>
          cut ? limit : limited.length,
        );
        if (limited.length === 0) return jobs;
        // Two picks (one before the rescue, one after) are one claim: sorted together, unless
        // they are a round-robin's turns.
        return seen.grouped ? limited.map(toJob) : toClaimOrder(limited, toJob);
      },
      undefined,
      alone,
    );
  }

  private takeRows<T>(
    queue: string,
    limit: number,
    decode: (job: TakenJob) => Decoded<T>,
  ): Promise<Taken<T>> {
    return this.store.writeDeleting(() => {
      const now = this.now();
      const one = this.store.rawSql(Q.TAKE_ONE);
      const read = this.store.rawSql(Q.TAKE_READ);
      const many = (limit: number): TakenRow[] => {
        const rows = read.all({ queue, now, limit }) as TakenRow[];
        if (rows.length === 0) return rows;
        const ids = rows.map((row) => row[0]);
        if (!ids.every(Number.isSafeInteger)) throw new UnsafeIdError(queue);
        this.sql(Q.TAKE).run({ ids: JSON.stringify(ids), queue });
        return rows;
      };
      const failed: [TakenJob, Extract<Decoded<T>, { error: string }>][] = [];
      const items: T[] = [];
      // A savepoint inside the writer's transaction: when an item cannot be decoded, the take
      // is undone to it, so the good rows stay exactly as they were (id, key, ttl, place).
      const takeAll = () =>
        this.store.db.transaction(() => {
          const jobs = this.pickWithRescue(
            queue,
            limit,
            now,
            (n) => (n === 1 ? (one.all({ queue, now }) as TakenRow[]) : many(n)),
            (row) => toTakenJob(row, queue),
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
      for (const [job, { error }] of failed) bury.run({ id: job.id, queue, now, error });
      const [job, { cause }] = failed[0] as (typeof failed)[number];
      return { items: [], failed: { job, cause } };
    });
  }

  /**
   * Runs a held-job statement; on no change, tells a lost lease from a missing job. `now` is
   * read here, inside the transaction that runs it. The bound values are one object literal
   * built by the caller.
   */
  private heldOutcome(statement: string, params: HeldParams): HeldOutcome {
    params.now = this.now();
    return this.outcome(this.sql(statement).run(params).changes, params.queue, params.id);
  }

  /** What a held-job statement that changed `changes` rows found. */
  private outcome(changes: number, queue: string, id: number): HeldOutcome {
    if (changes > 0) return "ok";
    return this.sql(Q.EXISTS).get({ queue, id }) === undefined ? "not_found" : "lease_lost";
  }

  // Bound by position (see HELD_AT in queries.ts), each value written out: no array or object
  // built per call on this path, once per job.
  complete(queue: string, id: number, { attempt, token }: Hold, result: StoredResult | null, keep: boolean) {
    const completion: PendingCompletion = {
      id,
      token,
      attempt,
      bytes: result?.bytes ?? null,
      format: result?.format ?? null,
      released: [],
    };
    const written = keep
      ? this.completeKept(queue, completion)
      : this.store.writeDeleting(() => {
          const now = this.now();
          const statement = this.sql(Q.COMPLETE_DELETE);
          if (statement.run(queue, id, token, token, attempt, attempt, now).changes > 0) return "ok";
          // Not deleted: gone or lost, or a job others depend on, completed first (its trigger
          // gives them its result), then deleted (see COMPLETE_DELETE).
          writeCompletions(this.store, queue, [completion], now);
          if (completion.error !== undefined) throw completion.error;
          if (completion.outcome === "ok") this.sql(Q.DELETE_COMPLETED).run(id);
          return completion.outcome as HeldOutcome;
        });
    return written.then((outcome) => {
      // Workers of this process learn of released jobs as of another process's commit.
      for (const name of completion.released) this.notifier.changedHere(name);
      return outcome;
    });
  }

  /**
   * A completion that keeps the job: a write of its own (its own place among the writes, its
   * own busyTimeout), which the writer runs as one statement with the completions of the same
   * queue issued right beside it (completions.ts).
   */
  private completeKept(queue: string, completion: PendingCompletion): Promise<HeldOutcome> {
    const runAll = (items: unknown[]) =>
      writeCompletions(this.store, queue, items as PendingCompletion[], this.now());
    return this.store
      .write(
        () => runAll([completion]),
        { key: queue, item: completion, runAll },
        () => completeAlone(this.store, queue, completion, this.now()),
      )
      .then(() => {
        if (completion.error !== undefined) throw translate(completion.error, this.store.path);
        return completion.outcome as HeldOutcome;
      });
  }

  fail(queue: string, id: number, { attempt, token }: Hold, error: string, retryInMs: number | null) {
    if (retryInMs === null) {
      const dead = { queue, id, attempt, token, now: 0, error };
      return this.store.write(() => this.heldOutcome(Q.FAIL_DEAD, dead));
    }
    const retry = { queue, id, attempt, token, now: 0, error, retry_in: Math.round(retryInMs) };
    return this.store.write(() => this.heldOutcome(Q.FAIL_RETRY, retry));
  }

  extend(queue: string, id: number, { attempt, token }: Hold, leaseMs: number) {
    const lease = { queue, id, attempt, token, now: 0, lease_until: this.now() + leaseMs };
    return this.store.write(() => this.heldOutcome(Q.EXTEND, lease));
  }

  progress(queue: string, id: number, { attempt, token }: Hold, progress: string) {
    const params = { queue, id, attempt, token, now: 0, progress };
    return this.store.write(() => this.heldOutcome(Q.PROGRESS, params));
  }

  extendMany(queue: string, held: Held, leaseMs: number): Promise<ExtendedMany> {
    return this.store.write(() => {
      const now = this.now();
      const statement = this.sql(Q.EXTEND);
      const lost = held
        .filter(
          ({ id, token }) =>
            statement.run({ queue, id, token, attempt: null, now, lease_until: now + leaseMs }).changes === 0,
        )
        .map(({ id }) => id);
      // A SQLite write holds the whole database, never a row: nothing is ever skipped.
      return { lost, skipped: [] };
    });
  }

  release(queue: string, held: Held, started: boolean): Promise<void> {
    return this.store.write(() => {
      const statement = this.sql(Q.RELEASE);
      for (const { id, token } of held) statement.run({ queue, id, token, started: started ? 1 : 0 });
    });
  }

  get(queue: string, id: number): Promise<StoredJob | null> {
    return reads.get(this.store, queue, id);
  }

  list(queue: string, state: JobState, limit: number, afterId: number, previewBytes?: number) {
    return reads.list(this.store, queue, state, limit, afterId, previewBytes);
  }

  browse(queue: string, states: readonly JobState[], range: BrowseRange, previewBytes?: number) {
    return reads.browse(this.store, queue, states, range, previewBytes);
  }

  counts(queue: string): Promise<QueueSize> {
    return reads.counts(this.store, queue);
  }

  queues(): Promise<string[]> {
    return reads.queues(this.store);
  }

  async nextDueIn(queue: string): Promise<number | null> {
    const due = await reads.nextDueIn(this.store, queue);
    // A job is ready, yet the claim found none: a limit may hold it back, and says how long.
    if (due !== 0) return due;
    return this.store.read(() => limitedWait(this.store, queue, this.now()));
  }

  oldestPendingAge(queue: string): Promise<number | null> {
    return reads.oldestPendingAge(this.store, queue);
  }

  backlog(queue: string): Promise<number> {
    return reads.backlog(this.store, queue);
  }

  /**
   * Inside a write, before a transition that tells dead jobs from live ones (retry, purge of
   * dead jobs, a clear that keeps dead letters): jobs dead in truth (past their ttl, or a
   * lapsed lease on their last attempt) are made so first, not left to the next claim.
   */
  private settle(queue: string, now: number): void {
    this.rescue(queue, now);
  }

  retry(queue: string, ids: number[] | null): Promise<number> {
    return this.store.write(() => {
      const now = this.now();
      this.settle(queue, now);
      if (ids === null) return this.sql(Q.RETRY_ALL).run({ queue, now }).changes;
      const statement = this.sql(Q.RETRY_ONE);
      return ids.reduce((moved, id) => moved + statement.run({ queue, id, now }).changes, 0);
    });
  }

  remove(queue: string, id: number): Promise<boolean> {
    return this.store.writeDeleting(() => this.sql(Q.REMOVE).run({ queue, id }).changes > 0);
  }

  purge(queue: string, state: "completed" | "dead", olderThanMs: number | null): Promise<number> {
    return this.store.writeDeleting(() => {
      if (state === "dead") this.settle(queue, this.now());
      const before = this.now() - (olderThanMs ?? 0);
      return this.sql(Q.PURGE).run({ queue, state, before }).changes;
    });
  }

  clear(queue: string, keepDead: boolean): Promise<number> {
    return this.store.writeDeleting(() => {
      if (keepDead) this.settle(queue, this.now());
      return this.sql(keepDead ? Q.CLEAR_LIVE : Q.CLEAR_ALL).run({ queue }).changes;
    });
  }

  readSettings(queue: string): Promise<QueueSettings | null> {
    return reads.readSettings(this.store, queue);
  }

  storeRetention(queue: string, retention: { completed: number; dead: number }): Promise<void> {
    return this.store.write(() => {
      this.sql(Q.STORE_RETENTION).run({ queue, ...retention, now: this.now() });
    });
  }

  storePaused(queue: string, paused: boolean): Promise<void> {
    return this.store.write(() => {
      this.sql(Q.STORE_PAUSED).run({ queue, paused: paused ? 1 : 0, now: this.now() });
    });
  }

  storeLimits(queue: string, patch: LimitsPatch): Promise<void> {
    return this.store.write(() => storeLimits(this.store, queue, patch, this.now()));
  }

  prune(queue: string, defaults: { completed: number; dead: number }): Promise<number> {
    // One IMMEDIATE transaction: the retention read here is the one in force while deleting.
    return this.store.writeDeleting(() => {
      const retention = reads.storedSettings(this.store, queue)?.retention ?? defaults;
      const now = this.now();
      const purge = this.sql(Q.PURGE);
      return (
        purge.run({ queue, state: "completed", before: now - retention.completed }).changes +
        purge.run({ queue, state: "dead", before: now - retention.dead }).changes
      );
    });
  }

  async close(): Promise<void> {
    await this.store.close();
    this.notifier.close();
  }
}
