/*
 * Lease renewals that wait for a row lock (PostgreSQL). A heartbeat's EXTEND_MANY never waits:
 * it skips a row another transaction holds (an application's transaction adding a child of the
 * job, the job's own outcome being written). Such a row is renewed here instead, by a statement
 * that waits for the lock, so it is first in line when the lock is let go, ahead of a rescue
 * that would take the job back once the holder is done.
 *
 * The rules, each from a hostile review:
 * - One row per statement, which locks the row before it computes the new lease: a statement
 *   over several rows kept the rows it got early locked (and unrenewed in the store) while it
 *   waited for a later one; and an UPDATE computes its new row before it waits, so a holder
 *   that rolled back (or only locked the row) got a lease counted from before the wait.
 * - A lease is renewed only if it was live when the statement began. The statement has no
 *   lock_timeout (one that ended the wait lost the place in line), so no rescue could take the
 *   job while it waited; a lease that ran out before, and that a heartbeat may have reported
 *   lost, stays lost. In a transaction of its own, so a statement whose process died before
 *   COMMIT renews nothing.
 * - Lanes: at most half the pool waits at once (none with a pool of one), the rest queue here,
 *   so rows held by many applications' transactions cannot take every connection from the
 *   heartbeat and from the worker's own writes. While rows queue, a lane that has waited its
 *   row's whole lease is cancelled and its row given up (a row held for ever took its lane for
 *   ever, and every row behind it lost its lease). A row a heartbeat renews or finds lost leaves
 *   the queue.
 * - close() cancels the statements still waiting: an application may hold a row for ever, and a
 *   server session waiting on a lock does not notice its client has gone.
 */
import type pg from "pg";
import type { HeldRef } from "../../backend.js";
import { MAX_TIMER_MS } from "../../clock.js";
import { cancelStatement } from "./cancel-request.js";
import { type Connections, DEFAULT_POOL_SIZE, ignore } from "./pool.js";

interface Wanted {
  queue: string;
  token: number;
  leaseMs: number;
}

/** A row whose renewal is out, on the connection it holds. */
interface Lane {
  id: number;
  wanted: Wanted;
  /**
   * When its statement was sent (performance.now()), null before: a lane is timed from then, not
   * from when it was queued (a slow checkout meanwhile let a heartbeat renew the row, and the
   * lane was given up while that lease was still live). Once cancelled, when it last was.
   */
  since: number | null;
  client?: pg.PoolClient | undefined;
  cancelled: boolean;
  /** Settles when its renewal has ended, whatever became of it. */
  done: Promise<void>;
}

/** How often a cancelled lane that has not ended is cancelled again (a cancel can come too early). */
const RECANCEL_MS = 1_000;
/** A cancel's bound when the pool has none (Spool's pools always set one). */
const DEFAULT_CONNECT_MS = 5_000;
/** How many times close() cancels a lane still out, and how long it waits after each (ms). */
const CLOSE_CANCELS = 3;
const CLOSE_CANCEL_WAIT_MS = 250;
/** Given-up rows remembered at most: a finished job's row is never settled by a heartbeat. */
const GIVEN_UP_MAX = 10_000;

export class WaitingRenewals {
  /** Rows waiting for a lane, in the order they were skipped. */
  private readonly queued = new Map<number, Wanted>();
  /** Rows whose statement is out now. */
  private readonly lanes = new Map<number, Lane>();
  /**
   * Rows whose lane was cancelled, with the claim token it waited for: that lease has run out,
   * nothing is left to wait for (a later claim of the same job, with its own token, is waited for).
   */
  private readonly givenUp = new Map<number, number>();
  private readonly most: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /** How long a cancel request may take to reach the server: the pool's bound on connecting. */
  private readonly connectMs: number;

  constructor(private readonly db: Connections) {
    this.most = Math.floor((db.pool.options.max ?? DEFAULT_POOL_SIZE) / 2);
    this.connectMs = db.pool.options.connectionTimeoutMillis || DEFAULT_CONNECT_MS;
  }

  /** Rows a heartbeat found held by another transaction. */
  skipped(queue: string, held: readonly HeldRef[], leaseMs: number): void {
    if (this.most === 0 || this.closed) return;
    for (const { id, token } of held) {
      if (!this.lanes.has(id) && this.givenUp.get(id) !== token)
        this.queued.set(id, { queue, token, leaseMs });
    }
    this.pump();
  }

  /** Rows a heartbeat renewed or found lost: nothing of theirs is left to wait for. */
  settled(ids: Iterable<number>): void {
    for (const id of ids) {
      this.queued.delete(id);
      this.givenUp.delete(id);
    }
  }

  /**
   * Cancels the statements still waiting (their transactions roll back) and sends no more. A
   * cancel that reaches a session between two statements is ignored by the server, so what is
   * still out is cancelled again, a few times, before its connection is dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    for (let round = 0; round < CLOSE_CANCELS && this.lanes.size > 0; round++) {
      const out = [...this.lanes.values()];
      // A server that took no cancel will take no other: once is enough to wait for it.
      if (!(await this.cancel(out))) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(out.map((lane) => lane.done)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_CANCEL_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const lane of this.lanes.values())
      void (lane.client as unknown as pg.Client | undefined)?.end().catch(ignore);
  }

  private pump(): void {
    while (this.lanes.size < this.most && this.queued.size > 0 && !this.closed && !this.db.isClosed) {
      const [id, wanted] = this.queued.entries().next().value as [number, Wanted];
      this.queued.delete(id);
      const lane: Lane = { id, wanted, since: null, cancelled: false, done: Promise.resolve() };
      this.lanes.set(id, lane);
      lane.done = this.send(id, lane).finally(() => {
        this.lanes.delete(id);
        this.pump();
      });
    }
    this.watch();
  }

  /**
   * While rows queue, cancels each lane once it has waited its row's lease (that lease has run
   * out by then: only the holder's end could still save it), and checks again when the next is due.
   */
  private watch(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queued.size === 0 || this.closed) return;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const due: Lane[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.since === null) continue; // not sent yet: send() watches again once it is
      const at = lane.cancelled ? lane.since + RECANCEL_MS : lane.since + lane.wanted.leaseMs;
      if (at <= now) {
        if (lane.cancelled) lane.since = now;
        due.push(lane);
        next = Math.min(next, now + RECANCEL_MS);
      } else next = Math.min(next, at);
    }
    if (due.length > 0) void this.cancel(due);
    if (Number.isFinite(next)) {
      // Capped as every timer must be: past 2^31 - 1 ms Node fires it after 1 ms, again and again.
      this.timer = setTimeout(() => this.watch(), Math.min(MAX_TIMER_MS, Math.max(1, next - now)));
      this.timer.unref();
    }
  }

  /** A row no longer waited for; the oldest are forgotten past GIVEN_UP_MAX (jobs long finished). */
  private giveUp(lane: Lane): void {
    this.givenUp.set(lane.id, lane.wanted.token);
    if (this.givenUp.size > GIVEN_UP_MAX) this.givenUp.delete(this.givenUp.keys().next().value as number);
  }

  /**
   * Cancels `lanes`' statements by the protocol's cancel request (cancel-request.ts): a
   * connection from the pool could wait behind the very lanes it is to free, and
   * pg_cancel_backend needs rights over the session's role and a free connection slot, without
   * which close() left the lanes waiting on the server. A cancelled lane's connection is never
   * pooled again (send), so a cancel arriving late cannot hit a statement the pool ran next.
   */
  private async cancel(lanes: readonly Lane[]): Promise<boolean> {
    const sent: Promise<boolean>[] = [];
    for (const lane of lanes) {
      lane.cancelled = true;
      this.giveUp(lane);
      if (lane.client !== undefined) sent.push(cancelStatement(lane.client, this.connectMs));
    }
    return (await Promise.all(sent)).some(Boolean);
  }

  /** One row's renewal; its failure is no news: the next heartbeat finds out what became of it. */
  private async send(id: number, lane: Lane): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.db.checkout(`extending the lease of job ${id}`);
    } catch {
      return;
    }
    let broken: Error | undefined;
    try {
      if (this.closed || lane.cancelled) throw new Error("not sent: closing or given up");
      lane.client = client;
      const { queue, token, leaseMs } = lane.wanted;
      // Read committed whatever the role's default (under repeatable read, the holder's write
      // of the row failed the renewal on commit), and no timeout of any kind this server has (a
      // role's or URL's statement_timeout ended the wait, and the place in line with it;
      // PostgreSQL 17 adds transaction_timeout, which older servers do not know by name).
      // The renewal lock says, until this transaction ends, that the lease is being kept: once
      // the holder lets the row go, a statement that gets it before this one does must not take
      // the lease for lost (queries.ts, renewalLock).
      await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED;
        SELECT set_config(name, '0', true) FROM pg_settings
        WHERE name IN ('lock_timeout', 'statement_timeout', 'transaction_timeout')`);
      await client.query({ name: "spool_RENEWAL_LOCK", text: this.db.text("RENEWAL_LOCK"), values: [id] });
      if (this.closed || lane.cancelled) throw new Error("not sent: closing or given up");
      lane.since = performance.now();
      this.watch();
      const renewed = await client.query({
        name: "spool_EXTEND_WAITING",
        text: this.db.text("EXTEND_WAITING"),
        values: [queue, id, token, leaseMs],
      });
      await client.query("COMMIT");
      // Renewed after all (a cancel came too late): nothing of this wait is given up.
      if (renewed.rowCount === 1 && this.givenUp.get(id) === token) this.givenUp.delete(id);
    } catch (error) {
      // Its transaction may still be open: the connection is dropped, not pooled.
      broken = error instanceof Error ? error : new Error(String(error));
    } finally {
      lane.client = undefined;
      // A cancelled lane's connection is never pooled again: a cancel still on its way to the
      // server names this session's pid, and would cancel whatever the pool ran on it next.
      this.db.checkin(client, broken ?? (lane.cancelled ? new Error("cancelled") : undefined));
    }
  }
}
