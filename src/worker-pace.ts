// A worker's pace: how many jobs it claims beyond its free slots, and how long it sleeps when a
// claim found nothing. Pure bookkeeping (no timer, no store), so the policy reads in one place.

/**
 * The fixed prefetch: only while handlers take less than this on average (ms), at
 * PREFETCH_PER_SLOT per slot (a prefetched quick job waits behind 8 others at most, under 16 ms),
 * and at most PREFETCH_FIXED_MAX. A claim costs a transaction (on SQLite, a commit shared with the
 * finished jobs' completions), so for quick handlers the size of each claim sets how many commits
 * a job costs: at 32 a drain at concurrency 16 paid about one commit per 24 jobs, at 112 about
 * one per 125.
 */
const PREFETCH_BELOW_MS = 2;
const PREFETCH_PER_SLOT = 8;
const PREFETCH_FIXED_MAX = 112;
/**
 * The demand-sized prefetch's bounds: a handler is counted as taking at least this long (ms; a
 * job's own cost around its handler is of that order), and no claim asks for more than this.
 */
const HANDLER_FLOOR_MS = 0.05;
const PREFETCH_MAX = 500;
/**
 * Payload bytes a prefetch may hold in memory, as the claims so far average them. Small on
 * purpose: a claim of large payloads costs the copies, not the transaction, so claiming them
 * few at a time loses nothing. At 16 MiB a drain of 1 MB jobs at concurrency 1 peaked at
 * ~530 MB RSS against ~135 MB for raw better-sqlite3 (the claims' buffers and the SQLite
 * statement's RETURNING rows, all live at once) and ran slower (~40 jobs/s against ~56 at 1 MiB).
 */
export const PREFETCH_BYTES = 1024 * 1024;

export class WorkerPace {
  /** Moving average of handler run time in ms; starts high, so nothing is prefetched blindly. */
  private handlerMs = Number.POSITIVE_INFINITY;
  /** Moving average of a claim's round trip in ms (0 until one is known). */
  private claimMs = 0;
  /** Moving average of a claimed job's payload size in bytes. */
  private payloadBytes = 0;
  /** Empty claims in a row while a job was due: see idleWait. */
  private dueMisses = 0;

  /** The demand-sized prefetch's ceiling: PREFETCH_MAX, or PREFETCH_FIXED_MAX (see below). */
  private readonly ceiling: number;

  /**
   * `claimsHoldThread`: the store's claims hold the thread (SQLite). Handlers then run only while
   * a claim waits for its turn in the writer (or for another process's lock), never during its
   * statement, so the demand-sized prefetch is held to the fixed one's ceiling. With a ceiling of
   * 500, the claim time it is sized by was mostly that wait, and the extra jobs only sat in
   * memory: a drain of 20k quick jobs at concurrency 16 (warm, interleaved runs) ran at 41–66k/s
   * with 119–124 MB peak RSS, against 60–72k/s and 104–107 MB at this ceiling, with half the GC
   * time (fewer jobs lived through a scavenge).
   */
  constructor(
    private readonly concurrency: number,
    private readonly pollInterval: number,
    claimsHoldThread: boolean,
  ) {
    this.ceiling = claimsHoldThread ? PREFETCH_FIXED_MAX : PREFETCH_MAX;
  }

  /** A handler ran `ms`. */
  observe(ms: number): void {
    this.handlerMs = Number.isFinite(this.handlerMs) ? this.handlerMs * 0.8 + ms * 0.2 : ms;
  }

  /** Times a claim: its round trip sizes the next claims (prefetch). */
  async timeClaim<R>(claim: () => Promise<R>): Promise<R> {
    const began = performance.now();
    const rows = await claim();
    const ms = performance.now() - began;
    this.claimMs = this.claimMs === 0 ? ms : this.claimMs * 0.8 + ms * 0.2;
    return rows;
  }

  /** Payload sizes of claimed jobs: large ones shrink the prefetch (see prefetch). */
  observePayloads(rows: readonly { payload: Uint8Array }[]): void {
    for (const row of rows) this.payloadBytes = this.payloadBytes * 0.8 + row.payload.byteLength * 0.2;
  }

  /**
   * Jobs to claim beyond the free slots. Only for quick handlers: a job held in the buffer waits
   * a claim's round trip or so, while one claim transaction serves many jobs. The larger of two
   * sizes: a few per slot (handlers under 2 ms), and what the handlers get through in two claim
   * round trips (so a store a network hop away, where a claim costs ms, is asked for as many
   * jobs as the worker will run meanwhile, not a fixed few). Slow handlers get next to none, so
   * a long job never sits behind another while a second worker idles.
   */
  prefetch(): number {
    if (!Number.isFinite(this.handlerMs)) return 0;
    const perMs = this.concurrency / Math.max(this.handlerMs, HANDLER_FLOOR_MS);
    const demand = Math.min(this.ceiling, Math.floor(perMs * this.claimMs * 2));
    // Whatever the count, what waits in memory stays near PREFETCH_BYTES of payloads.
    const byBytes = Math.floor(PREFETCH_BYTES / Math.max(1, this.payloadBytes));
    return Math.min(byBytes, Math.max(this.fixedPrefetch(), demand));
  }

  /** The few per slot that quick handlers get whatever a claim costs. */
  private fixedPrefetch(): number {
    return this.handlerMs > PREFETCH_BELOW_MS
      ? 0
      : Math.min(PREFETCH_FIXED_MAX, this.concurrency * PREFETCH_PER_SLOT);
  }

  /**
   * Whether to claim ahead with `buffered` jobs still waiting: when no more are left than the
   * handlers run in one claim's round trip (half the demand-sized prefetch), so the claim's rows
   * arrive as the buffer runs dry. Never while the fixed prefetch is the larger (a store whose
   * claims take µs gains nothing).
   */
  claimAhead(buffered: number): boolean {
    if (!Number.isFinite(this.handlerMs)) return false;
    const demand = this.prefetch();
    return demand > this.fixedPrefetch() && buffered <= demand / 2;
  }

  /** A claim found work. */
  found(): void {
    this.dueMisses = 0;
  }

  /**
   * How long to sleep when the claim found nothing, given when the next job falls due (`due`
   * ms, null when none is waiting or that could not be read): until then, at most
   * pollInterval. A job that is due yet was not claimed (its row locked by another session, a
   * clock edge) would make that 0 again and again: such misses back off, doubling from 2 ms up
   * to pollInterval, so an idle worker never spins; any claim that finds work resets them.
   */
  idleWait(due: number | null): number {
    if (due === null) return this.pollInterval;
    if (due > 0) {
      this.dueMisses = 0;
      return Math.min(this.pollInterval, due);
    }
    this.dueMisses = Math.min(this.dueMisses + 1, 30);
    return Math.min(this.pollInterval, 2 ** this.dueMisses);
  }
}
