// When an idle worker of a limited queue should look again, once a claim found nothing though
// jobs are ready: the same rule for both backends, from what each reads of the queue.

/** What a backend reads of a limited queue for its wait. */
export interface LimitState {
  /** The rate limit's max, or null without one. */
  rateMax: number | null;
  /** Starts in the current window. */
  used: number;
  /** ms until the oldest start in the window leaves it (null: no start in it). */
  freesIn: number | null;
  concurrency: number | null;
  /** The queue's reserved jobs. */
  reserved: number;
  groupConcurrency: number | null;
}

/**
 * ms until a claim may take a job again: when the rate limit is spent, the moment the oldest start
 * leaves the window (at least 1 ms); null when the global or a group's concurrency holds it
 * back (a completion, failure or release wakes the workers then, the poll being the net); 0 when
 * no limit is met (the ready job appeared since the claim).
 */
export function limitedDueIn(s: LimitState): number | null {
  if (s.rateMax !== null && s.used >= s.rateMax) return Math.max(1, Math.ceil(s.freesIn ?? 1));
  if (s.concurrency !== null && s.reserved >= s.concurrency) return null;
  if (s.groupConcurrency !== null) return null;
  return 0;
}
