// A worker's pace: how many jobs it claims beyond its free slots, and how long it sleeps when a
// claim found nothing. Pure bookkeeping (no timer, no store), so the policy reads in one place.

/**
 * Prefetch only while handlers take less than this on average (ms), and at most this many, at
 * PREFETCH_PER_SLOT per slot (a prefetched quick job waits behind 8 others at most, under 16 ms). A claim
 * costs a transaction (on SQLite, a commit shared with the finished jobs' completions), so for
 * quick handlers the size of each claim sets how many commits a job costs: at 32 a drain at
 * concurrency 16 paid about one commit per 24 jobs, at 112 about one per 125.
 */
const PREFETCH_BELOW_MS = 2;
const PREFETCH_PER_SLOT = 8;
const PREFETCH_MAX = 112;

export class WorkerPace {
  /** Moving average of handler run time in ms; starts high, so nothing is prefetched blindly. */
  private handlerMs = Number.POSITIVE_INFINITY;
  /** Empty claims in a row while a job was due: see idleWait. */
  private dueMisses = 0;

  constructor(
    private readonly concurrency: number,
    private readonly pollInterval: number,
  ) {}

  /** A handler ran `ms`. */
  observe(ms: number): void {
    this.handlerMs = Number.isFinite(this.handlerMs) ? this.handlerMs * 0.8 + ms * 0.2 : ms;
  }

  /**
   * Jobs to claim beyond the free slots. Only for quick handlers: a job held in the buffer waits
   * a few ms at most, while one claim transaction serves several jobs. Slow handlers get none,
   * so a long job never sits behind another while a second worker idles.
   */
  prefetch(): number {
    if (this.handlerMs > PREFETCH_BELOW_MS) return 0;
    return Math.min(PREFETCH_MAX, this.concurrency * PREFETCH_PER_SLOT);
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
