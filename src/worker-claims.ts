// A worker's claims: the one it waits for when its buffer is empty, and the one it sends ahead
// while the buffer still holds what its handlers will run during a claim's round trip (on a
// store a network hop away, a claim costs ms: without it the handlers idle that long per
// claim). Both are timed, as the pace sizes claims to demand (worker-pace.ts).
import type { ClaimBound, StoredJob } from "./backend.js";
import type { SpoolContext } from "./context.js";
import { PREFETCH_BYTES, type WorkerPace } from "./worker-pace.js";

/** The queue a worker claims from, as its claims see it. */
interface ClaimedQueue {
  readonly name: string;
  readonly ctx: SpoolContext;
}

/**
 * Claims up to `limit` jobs of `queue`, once the limits this Spool stated for it are stored:
 * a worker started right after `spool.queue(name, { concurrency })` is already bound by them.
 */
export function claimJobs(
  queue: ClaimedQueue,
  limit: number,
  leaseMs: number,
  bound?: ClaimBound,
): Promise<StoredJob[]> {
  const { ctx, name } = queue;
  const stated = ctx.limits.stored(name);
  if (stated === undefined) return ctx.backend.claim(name, limit, leaseMs, bound);
  return stated.then(() => ctx.backend.claim(name, limit, leaseMs, bound));
}

/** Decides whether a claim's rows may run (see PauseWatch). */
export interface ClaimGate {
  /** Bumped by each pause made in this process. */
  readonly generation: number;
  /** The rows of a claim sent at `generation`: all of them, or none (handed back). */
  admit(rows: StoredJob[], generation: number): StoredJob[];
}

export class WorkerClaims {
  private ahead: Promise<void> | null = null;
  /**
   * The last claim came back with all it asked for: only then is one sent ahead (a short one
   * means the queue ran dry, and the worker's next claim, when its buffer is empty, will tell).
   */
  private full = false;
  /**
   * The last claim found nothing. The next, after a wake-up (most often for one new job), asks
   * for one job alone when one slot is free: a claim of one is a single statement on SQLite (no
   * transaction around it, no byte bound read first), and the add → start latency of an idle
   * worker at concurrency 1 fell from 0.33 to 0.28 ms (p50 of five runs of 200). A claim of more
   * is a transaction either way, where the prefetch costs nothing more. A claim that comes back
   * full brings the prefetch back at once.
   */
  private dry = false;

  constructor(
    private readonly pace: WorkerPace,
    /** The worker's lease (ms): each claimed job holds it from when its claim was sent. */
    private readonly leaseMs: number,
    private readonly claim: (limit: number, bound?: ClaimBound) => Promise<StoredJob[]>,
    /** Where the ahead claim's rows go: the worker's buffer. */
    private readonly buffer: StoredJob[],
    private readonly report: (error: unknown) => void,
    /** Its queue: a limited one is claimed for free slots only (see now). */
    private readonly queue?: ClaimedQueue,
  ) {}

  /**
   * When each claimed job with a ttl must have started by (performance.now() ms): the ms its
   * ttl had left at the claim (on the store's clock), counted from when the claim was sent, so
   * a round trip errs toward expiring, never toward running a job past its ttl.
   */
  private readonly startBy = new WeakMap<StoredJob, number>();

  /**
   * When each claimed job's lease runs out (performance.now() ms), counted from when its claim
   * (or the heartbeat that last renewed it) was sent: never later than the store's lease_until.
   */
  private readonly leaseBy = new WeakMap<StoredJob, number>();

  /** Where every claim's rows pass before the worker may start them: the pause watch. */
  gate: ClaimGate | null = null;

  /**
   * Claims `limit` jobs, timed for the pace, each job's start-by time and lease noted. A claim
   * takes jobs while those it took weigh under PREFETCH_BYTES (always one), as the store weighs
   * them in the claim itself: the sizes seen before (the pace's) say nothing of the jobs next in
   * line (after thousands of tiny jobs, a claim of 500 took 500 large ones), and a claim of
   * many large payloads for the free slots alone can take longer than the lease (16 × 4 MiB: a
   * second). Free slots a short claim left are filled by the next one, at once.
   */
  private async claimTimed(limit: number): Promise<StoredJob[]> {
    const sent = performance.now();
    const generation = this.gate?.generation ?? 0;
    const bound = limit > 1 ? { free: 1, bytes: PREFETCH_BYTES } : undefined;
    let rows = await this.pace.timeClaim(() => this.claim(limit, bound));
    if (this.gate !== null) rows = this.gate.admit(rows, generation);
    this.pace.observePayloads(rows);
    for (const row of rows) {
      if (row.expiresIn != null) this.startBy.set(row, sent + row.expiresIn);
      this.leaseBy.set(row, sent + this.leaseMs);
    }
    return rows;
  }

  /** The heartbeat sent at `sent` (performance.now() ms) renewed these buffered rows' leases. */
  renewed(rows: readonly StoredJob[], sent: number): void {
    for (const row of rows) this.leaseBy.set(row, sent + this.leaseMs);
  }

  /**
   * Whether `row` must not start: its lease ran out while it waited in the buffer (a claim
   * slower than the lease: another worker may hold the job now), or has less than a third of
   * it left, which the heartbeat, renewing every third, might not reach in time.
   */
  lapsing(row: StoredJob, now: number): boolean {
    const by = this.leaseBy.get(row);
    return by !== undefined && now > by - this.leaseMs / 3;
  }

  /** Whether any of the first `count` rows of `rows` is lapsing: no copy on the start path. */
  anyLapsing(rows: readonly StoredJob[], count: number, now: number): boolean {
    for (let i = 0; i < Math.min(count, rows.length); i++)
      if (this.lapsing(rows[i] as StoredJob, now)) return true;
    return false;
  }

  /** Whether `row`'s ttl ran out while it waited in the buffer: it must not start. */
  expired(row: StoredJob): boolean {
    const by = this.startBy.get(row);
    return by !== undefined && performance.now() >= by;
  }

  /** A claim that failed because the store closed meanwhile is no news. */
  private readonly reportOpen = (error: unknown): void => {
    if ((error as { code?: unknown } | null)?.code !== "CLOSED") this.report(error);
  };

  /**
   * Claims for `free` slots plus the prefetch, and waits for it. On a limited queue (rate limit,
   * concurrency, group concurrency) for the free slots only: there a claim is a start, and a
   * job claimed but not started would hold a slot another process could use.
   */
  async now(free: number): Promise<StoredJob[]> {
    const limited = this.queue?.ctx.limits.limited(this.queue.name) ?? false;
    const onlyFree = typeof limited === "boolean" ? limited : await limited;
    const limit = free + (onlyFree || (this.dry && free === 1) ? 0 : this.pace.prefetch());
    const rows = await this.claimTimed(limit);
    this.full = rows.length >= limit;
    this.dry = rows.length === 0;
    return rows;
  }

  /** With the buffer this low, sends the next claim now; its rows join the buffer's end. */
  maybeAhead(): void {
    if (this.ahead !== null || !this.full || !this.pace.claimAhead(this.buffer.length)) return;
    if (this.queue?.ctx.limits.seenLimited(this.queue.name)) return;
    const limit = this.pace.prefetch();
    this.full = false;
    this.ahead = this.claimTimed(limit)
      .then((rows) => {
        this.full = rows.length >= limit;
        this.buffer.push(...rows);
      }, this.reportOpen)
      .finally(() => {
        this.ahead = null;
      });
  }

  /** True while an ahead claim is out. */
  get inFlight(): boolean {
    return this.ahead !== null;
  }

  /** Resolves once no ahead claim is out (its rows, if any, are in the buffer). */
  settled(): Promise<void> {
    return this.ahead ?? Promise.resolve();
  }
}
