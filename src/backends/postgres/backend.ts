/*
 * The PostgreSQL backend: each seam method is one named statement (queries.ts) or one short
 * transaction; reads are in reads.ts. All time is the database's (now()); options.clock is
 * deliberately ignored, since several hosts with drifting clocks share one server.
 */
import type {
  Backend,
  BrowseRange,
  ClaimBound,
  Decoded,
  ExtendedMany,
  FlowInsert,
  HeldOutcome,
  HeldRef,
  Hold,
  LimitsPatch,
  NewJob,
  Notifier,
  QueueSettings,
  StoredDependency,
  StoredJob,
  StoredResult,
  Taken,
  TakenJob,
} from "../../backend.js";
import { show } from "../../errors.js";
import type { JobState, QueueSize, SqlClient } from "../../types.js";
import { RescueThrottle } from "../shared.js";
import { hasDependencies, toDependencies } from "./dependencies.js";
import { enqueueValues, insertKeyed } from "./enqueue.js";
import { addOnCaller, type CallerAdds } from "./enqueue-on.js";
import { Grouper, type HeldCall } from "./group.js";
import { Limits } from "./limits.js";
import type { ListenNotifier } from "./notifier.js";
import type { Connections, Row, Values } from "./pool.js";
import type { QueryName } from "./queries.js";
import * as reads from "./reads.js";
import { asBuffer, num, toClaimOrder, toLimitedOrder } from "./rows.js";
import { PostgresSchedules } from "./schedules.js";
import { FirstAnalyze } from "./statistics.js";
import { WaitingRenewals } from "./waiting-renewals.js";

const silentNotifier: Notifier = { subscribe: () => () => {}, announce: () => {} };

interface Completion extends HeldCall {
  result: Buffer | null;
  format: number | null;
}
interface Failure extends HeldCall {
  error: string;
  retryInMs: number | null;
}

export class PostgresBackend implements Backend {
  readonly kind = "postgres";
  readonly claimsHoldThread = false;
  readonly notifier: Notifier;
  readonly schedules: PostgresSchedules;
  /** When each queue was last rescued, on the process clock (only a throttle). */
  private readonly rescues = new RescueThrottle();
  /** Renewals of rows a heartbeat found held by another transaction (extendMany). */
  private readonly waitingRenewals: WaitingRenewals;
  private readonly completions: Grouper<Completion>;
  private readonly deletions: Grouper<Completion>;
  private readonly failures: Grouper<Failure>;
  private readonly firstAnalyze: FirstAnalyze;
  /** What an add on the caller's own client needs of this backend (enqueue-on.ts). */
  private readonly caller: CallerAdds;
  /** Limited queues: their claim, wait, stored limits and wake-ups (limits.ts). */
  private readonly limits: Limits;

  constructor(
    private readonly db: Connections,
    private readonly schema: string,
    private readonly channel: string,
    private readonly listener: ListenNotifier | null,
  ) {
    this.notifier = listener ?? silentNotifier;
    this.schedules = new PostgresSchedules(db, channel);
    this.firstAnalyze = new FirstAnalyze(db, schema);
    this.limits = new Limits(db, channel);
    this.waitingRenewals = new WaitingRenewals(db);
    this.caller = { db, channel, limits: this.limits, noteAdded: (n) => this.firstAnalyze.noteAdded(n) };
    const closed = () => db.isClosed;
    this.completions = new Grouper<Completion>(
      (queue, calls) =>
        this.run(
          "COMPLETE",
          [
            queue,
            calls.map((c) => c.id),
            calls.map((c) => c.attempt),
            calls.map((c) => c.result),
            calls.map((c) => c.format),
            calls.map((c) => c.token),
          ],
          `completing ${calls.length} job(s) of ${show(queue)}`,
        ),
      closed,
    );
    this.deletions = new Grouper<Completion>(async (queue, calls) => {
      const doing = `completing ${calls.length} job(s) of ${show(queue)}`;
      const rows = await this.run(
        "COMPLETE_DELETE",
        [
          queue,
          calls.map((c) => c.id),
          calls.map((c) => c.attempt),
          calls.map((c) => c.token),
          calls.map((c) => c.result),
          calls.map((c) => c.format),
        ],
        doing,
      );
      // Jobs others depend on were completed instead (their dependents released): now deleted.
      // The completions stand whatever becomes of that (the group must not run again): a job
      // left completed is deleted by the next prune, by the queue's retention.
      const kept = rows.filter((r) => r.kept === true).map((r) => num(r.id));
      if (kept.length > 0) await this.run("DELETE_COMPLETED", [kept], doing).catch(() => {});
      return rows;
    }, closed);
    this.failures = new Grouper<Failure>(
      (queue, calls) =>
        this.run(
          "FAIL",
          [
            queue,
            calls.map((c) => c.id),
            calls.map((c) => c.attempt),
            calls.map((c) => c.error),
            calls.map((c) => c.retryInMs),
            this.channel,
            calls.map((c) => c.token),
          ],
          `failing ${calls.length} job(s) of ${show(queue)}`,
        ),
      closed,
    );
  }

  enqueueOn(client: SqlClient, queue: string, jobs: NewJob[], inserted?: boolean[]): Promise<number[]> {
    return addOnCaller(this.caller, client, queue, jobs, inserted);
  }

  private run(name: QueryName, values: Values, doing: string): Promise<Row[]> {
    return this.db.run(name, values, doing);
  }

  async enqueue(
    queue: string,
    jobs: NewJob[],
    maxSize?: number,
    inserted?: boolean[],
  ): Promise<number[] | null> {
    if (jobs.length === 0) return [];
    const grouped = jobs.some((j) => j.group != null);
    if (grouped) await this.limits.markGrouped(queue);
    const values = enqueueValues(queue, this.channel, jobs, grouped, this.db.payloadEncoding);
    const doing = `adding ${jobs.length} job(s) to ${show(queue)}`;
    // The common case, no keys, no bound and no dependencies, is one autocommitted statement.
    if (maxSize === undefined && jobs.every((j) => j.key === null) && !hasDependencies(jobs)) {
      if (inserted !== undefined) for (let i = 0; i < jobs.length; i++) inserted[i] = true;
      const rows = await this.run("ENQUEUE_PLAIN", values, doing);
      this.firstAnalyze.noteAdded(rows.length);
      return rows.map((r) => num(r.id));
    }
    const ids = await this.db.transaction(doing, (run) =>
      insertKeyed(run, { queue, schema: this.schema, jobs, values, maxSize, inserted }),
    );
    // After the commit, so the sample sees these rows.
    if (ids !== null) this.firstAnalyze.noteAdded(ids.length);
    return ids;
  }

  /**
   * One transaction, entries in order; a run of entries of one queue that depend on none of the
   * run goes in as one batch (a flow's children: one insert, one link statement for them all).
   */
  async enqueueFlow(entries: readonly FlowInsert[]): Promise<number[]> {
    if (entries.length === 0) return [];
    const grouped = new Set(entries.filter((e) => e.job.group != null).map((e) => e.queue));
    for (const queue of grouped) await this.limits.markGrouped(queue);
    const doing = `adding a flow of ${entries.length} job(s)`;
    const ids = await this.db.transaction(doing, async (run) => {
      const ids: number[] = [];
      let start = 0;
      while (start < entries.length) {
        const queue = (entries[start] as FlowInsert).queue;
        let end = start + 1;
        while (end < entries.length) {
          const next = entries[end] as FlowInsert;
          if (next.queue !== queue || next.children.some((c) => c >= start)) break;
          end++;
        }
        const jobs = entries.slice(start, end).map(({ job, children }) => {
          const dependsOn = [...(job.dependsOn ?? []), ...children.map((c) => ids[c] as number)];
          return {
            ...job,
            dependsOn: dependsOn.length === 0 ? null : [...new Set(dependsOn)].sort((a, b) => a - b),
          };
        });
        const values = enqueueValues(queue, this.channel, jobs, grouped.has(queue), this.db.payloadEncoding);
        const got = await insertKeyed(run, {
          queue,
          schema: this.schema,
          jobs,
          values,
          maxSize: undefined,
          inserted: undefined,
        });
        ids.push(...(got as number[]));
        start = end;
      }
      return ids;
    });
    this.firstAnalyze.noteAdded(ids.length);
    return ids;
  }

  async dependencies(queue: string, id: number): Promise<StoredDependency[]> {
    const doing = `reading the dependencies of job ${id} of ${show(queue)}`;
    return toDependencies(await this.run("DEPENDENCIES", [queue, id], doing));
  }

  /**
   * The claim with the rescue (shared.ts) around it: before it when the throttle says so; after
   * it when it came back short and the rescue did not just run. Unlike SQLite's, that costs a
   * round trip, so an empty claim rescues and claims again, and a short but non-empty one sends
   * its rows at once (a woken idle worker's latency) and rescues after them, unawaited: what
   * that returns to pending is there for the claim that comes next. Each step autocommits on
   * its own (no BEGIN/COMMIT): the rescue only changes jobs nobody holds, so another process
   * claiming between it and CLAIM is the same as that process claiming first.
   */
  async claim(queue: string, limit: number, leaseMs: number, bound?: ClaimBound): Promise<StoredJob[]> {
    const doing = `reserving from ${show(queue)}`;
    const rescuedFirst = this.rescues.isDue(queue, Date.now());
    if (rescuedFirst) await this.rescue(queue, doing);
    // A queue known to be limited goes to the limited claim at once (one round trip).
    if (this.limits.known(queue)) {
      const rows = await this.limits.claim(queue, limit, leaseMs, doing);
      if (rows !== null) return toLimitedOrder(rows);
    }
    const claimNow = () =>
      bound === undefined || limit <= Math.max(1, bound.free)
        ? this.run("CLAIM", [queue, limit, leaseMs], doing)
        : this.run("CLAIM_BOUNDED", [queue, limit, leaseMs, bound.free, bound.bytes], doing);
    const rows = await claimNow();
    if (rows.length < limit && !rescuedFirst && !cutByBound(rows, bound)) {
      if (rows.length > 0) {
        this.rescue(queue, doing).catch(() => {});
      } else if ((await this.rescue(queue, doing)) > 0) {
        rows.push(...(await claimNow()));
      }
    }
    // Nothing: the queue may be limited, which CLAIM leaves to the limited claim.
    if (rows.length === 0)
      return toLimitedOrder((await this.limits.claim(queue, limit, leaseMs, doing)) ?? []);
    return toClaimOrder(rows);
  }

  /**
   * Before a transition that tells dead jobs from live ones (retry, purge of dead jobs, a clear
   * that keeps dead letters): jobs dead in truth (past their ttl, or a lapsed lease on their
   * last attempt) are made so first, not left to the next claim.
   */
  private async settle(queue: string, doing: string): Promise<void> {
    await this.rescue(queue, doing);
  }

  /** Runs RESCUE for the queue; returns how many jobs it moved. */
  private async rescue(queue: string, doing: string): Promise<number> {
    this.rescues.ran(queue, Date.now());
    const row = (await this.run("RESCUE", [queue, this.channel], doing))[0];
    return num(row?.lapsed ?? 0) + num(row?.expired ?? 0);
  }

  /**
   * One transaction: BEGIN, TAKE, decode, COMMIT when every item decodes (no statement more
   * than that). Otherwise the transaction is rolled back, so every taken row is back exactly as
   * it was (time to the µs, key, claims, place in the order) and no other transaction ever saw
   * one gone (an add with one of their keys waits on the deleted row's lock, then meets the
   * row); only then do the undecodable ones become dead (their key kept), in a statement of
   * their own. A crash between the two loses nothing: the undecodable job is still pending,
   * and the next receive that meets it buries it.
   */
  async take<T>(queue: string, limit: number, decode: (job: TakenJob) => Decoded<T>): Promise<Taken<T>> {
    const doing = `receiving from ${show(queue)}`;
    // As a claim: the rescue first when the throttle says so (lapsed leases back, jobs past
    // their ttl dead), so a lapsed job comes back in claim order even for a receiver whose
    // takes always come back full, and a draining receiver pays one round trip per 250 ms.
    if (this.rescues.isDue(queue, Date.now())) await this.rescue(queue, doing);
    type Outcome = { taken: Taken<T>; ids: number[]; errors: string[] };
    const { taken, ids, errors } = await this.db.transaction<Outcome>(doing, async (run, undo) => {
      const jobs = toClaimOrder(await run("TAKE", [queue, limit, this.channel]));
      const items: T[] = [];
      const ids: number[] = [];
      const errors: string[] = [];
      let first: { job: StoredJob; cause: unknown } | undefined;
      for (const job of jobs) {
        const decoded = decode(job);
        if ("item" in decoded) {
          items.push(decoded.item);
          continue;
        }
        first ??= { job, cause: decoded.cause };
        ids.push(job.id);
        errors.push(decoded.error);
      }
      if (first === undefined) return { taken: { items, failed: null }, ids, errors };
      return undo({ taken: { items: [], failed: first }, ids, errors });
    });
    if (ids.length > 0) await this.run("BURY_UNDECODABLE", [queue, ids, errors, this.channel], doing);
    return taken;
  }

  private outcome(rows: Row[]): HeldOutcome {
    const row = rows[0];
    if (row !== undefined && num(row.done) > 0) return "ok";
    return row?.found ? "lease_lost" : "not_found";
  }

  complete(
    queue: string,
    id: number,
    hold: Hold,
    result: StoredResult | null,
    keep: boolean,
  ): Promise<HeldOutcome> {
    const bytes = result === null ? null : asBuffer(result.bytes);
    const format = result?.format ?? null;
    // Deleted at once, but with its result: a job others depend on hands it to them first.
    if (!keep)
      return this.limits.freed(queue, this.deletions.add(queue, { id, ...hold, result: bytes, format }));
    return this.limits.freed(queue, this.completions.add(queue, { id, ...hold, result: bytes, format }));
  }

  fail(queue: string, id: number, hold: Hold, error: string, retryInMs: number | null): Promise<HeldOutcome> {
    return this.limits.freed(queue, this.failures.add(queue, { id, ...hold, error, retryInMs }));
  }

  async extend(queue: string, id: number, hold: Hold, leaseMs: number): Promise<HeldOutcome> {
    const rows = await this.run(
      "EXTEND",
      [queue, id, hold.attempt, leaseMs, hold.token],
      `extending job ${id} of ${show(queue)}`,
    );
    return this.outcome(rows);
  }

  async progress(queue: string, id: number, hold: Hold, progress: string): Promise<HeldOutcome> {
    const doing = `storing the progress of job ${id} of ${show(queue)}`;
    return this.outcome(await this.run("PROGRESS", [queue, id, hold.attempt, progress, hold.token], doing));
  }

  async extendMany(queue: string, held: ReadonlyArray<HeldRef>, leaseMs: number): Promise<ExtendedMany> {
    if (held.length === 0) return { lost: [], skipped: [] };
    const doing = `extending ${held.length} lease(s) of ${show(queue)}`;
    const ids = held.map((h) => h.id);
    const rows = await this.run("EXTEND_MANY", [queue, ids, held.map((h) => h.token), leaseMs], doing);
    const lost: number[] = [];
    const skipped = new Set<number>();
    for (const r of rows) {
      if (r.skipped === true) skipped.add(num(r.id));
      else lost.push(num(r.id));
    }
    this.waitingRenewals.settled(ids.filter((id) => !skipped.has(id)));
    // A row this heartbeat found held is renewed once let go (waiting-renewals.ts), whoever
    // holds it: an earlier heartbeat still answering may hold it, or may have skipped it too.
    this.waitingRenewals.skipped(
      queue,
      held.filter((h) => skipped.has(h.id)),
      leaseMs,
    );
    return { lost, skipped: [...skipped] };
  }

  async release(queue: string, held: ReadonlyArray<HeldRef>, started: boolean): Promise<void> {
    if (held.length === 0) return;
    await this.run(
      "RELEASE",
      [queue, held.map((h) => h.id), held.map((h) => h.token), this.channel, started],
      `releasing ${held.length} job(s) of ${show(queue)}`,
    );
  }

  get(queue: string, id: number): Promise<StoredJob | null> {
    return reads.get(this.db, queue, id);
  }

  list(queue: string, state: JobState, limit: number, afterId: number, previewBytes?: number) {
    return reads.list(this.db, queue, state, limit, afterId, previewBytes);
  }

  browse(queue: string, states: readonly JobState[], range: BrowseRange, previewBytes?: number) {
    return reads.browse(this.db, queue, states, range, previewBytes);
  }

  counts(queue: string): Promise<QueueSize> {
    return reads.counts(this.db, queue);
  }

  queues(): Promise<string[]> {
    return reads.queues(this.db);
  }

  async nextDueIn(queue: string): Promise<number | null> {
    const due = await reads.nextDueIn(this.db, queue);
    // A job is ready, yet the claim found none: a limit may hold it back, and says how long.
    return due === 0 ? this.limits.wait(queue) : due;
  }

  oldestPendingAge(queue: string): Promise<number | null> {
    return reads.oldestPendingAge(this.db, queue);
  }

  backlog(queue: string): Promise<number> {
    return reads.backlog(this.db, queue);
  }

  async retry(queue: string, ids: number[] | null): Promise<number> {
    if (ids !== null && ids.length === 0) return 0;
    // Jobs dead in truth (spent lapsed leases, ttl past) are made so first: retry sees them.
    await this.settle(queue, `retrying dead jobs of ${show(queue)}`);
    const rows = await this.run("RETRY", [queue, ids, this.channel], `retrying dead jobs of ${show(queue)}`);
    return num(rows[0]?.done ?? 0);
  }

  async remove(queue: string, id: number): Promise<boolean> {
    const rows = await this.run("REMOVE", [queue, id, this.channel], `removing job ${id} of ${show(queue)}`);
    return num(rows[0]?.done ?? 0) > 0;
  }

  async purge(queue: string, state: "completed" | "dead", olderThanMs: number | null): Promise<number> {
    if (state === "dead") await this.settle(queue, `purging dead jobs of ${show(queue)}`);
    const rows = await this.run(
      "PURGE",
      [queue, state, olderThanMs],
      `purging ${state} jobs of ${show(queue)}`,
    );
    return num(rows[0]?.done ?? 0);
  }

  async clear(queue: string, keepDead: boolean): Promise<number> {
    if (keepDead) await this.settle(queue, `clearing ${show(queue)}`);
    const rows = await this.run("CLEAR", [queue, keepDead, this.channel], `clearing ${show(queue)}`);
    return num(rows[0]?.done ?? 0);
  }

  readSettings(queue: string): Promise<QueueSettings | null> {
    return reads.readSettings(this.db, queue);
  }

  async storeRetention(queue: string, { completed, dead }: { completed: number; dead: number }) {
    await this.run("STORE_RETENTION", [queue, completed, dead], `storing the retention of ${show(queue)}`);
  }

  async storePaused(queue: string, paused: boolean): Promise<void> {
    const doing = `${paused ? "pausing" : "resuming"} ${show(queue)}`;
    await this.run("STORE_PAUSED", [queue, paused, this.channel], doing);
  }

  async storeLimits(queue: string, patch: LimitsPatch): Promise<void> {
    await this.limits.store(queue, patch);
  }

  async prune(queue: string, { completed, dead }: { completed: number; dead: number }): Promise<number> {
    const doing = `removing finished jobs of ${show(queue)} past their retention`;
    return num((await this.run("PRUNE", [queue, completed, dead], doing))[0]?.done ?? 0);
  }

  async close(): Promise<void> {
    // A renewal waiting for an application's lock may wait for ever: no one needs it now.
    await this.waitingRenewals.close();
    // Completions already issued still commit (or fail) before the pool goes.
    if (!this.db.isClosed)
      await Promise.all([this.completions.settled(), this.deletions.settled(), this.failures.settled()]);
    await this.listener?.close();
    await this.db.close();
  }
}

/**
 * Whether a claim's `rows` came back short because its bound cut them (they hold at least its
 * free jobs and weigh its bytes), not because the queue ran out: no rescue is due for that.
 */
function cutByBound(rows: readonly Row[], bound: ClaimBound | undefined): boolean {
  if (bound === undefined || rows.length < Math.max(1, bound.free)) return false;
  let bytes = 0;
  for (const row of rows) bytes += (row.payload as Uint8Array).byteLength;
  return bytes >= bound.bytes;
}
