// A queue's limits (rate limit, global concurrency, group concurrency): checked here, stored with
// the queue for every process, and enforced by the store's claim itself (each backend's
// limited-claim.ts). What the core keeps is only what a worker needs to behave: whether the
// queue is limited, so it claims no more than its free slots and wakes its peers when a slot
// frees.
import type { Backend, LimitsPatch, QueueSettings } from "./backend.js";
import { SpoolError, show } from "./errors.js";
import type { QueueOptions } from "./types.js";
import { checkInteger, checkKnownKeys, checkObject, checkPositiveDuration, MAX_COUNT } from "./validate.js";

/** The queue options that are limits. */
export const LIMIT_KEYS = ["rateLimit", "concurrency", "groupConcurrency"] as const;

/** How long a worker trusts what it read of a queue's limits. */
const LIMITS_TTL_MS = 1000;

/**
 * The limits a queue handle states: each stated key (a value, or null to remove that limit), the
 * others absent. Undefined when the handle states none: it follows the stored ones.
 */
export function checkLimits(o: Record<string, unknown>): LimitsPatch | undefined {
  const patch: LimitsPatch = {};
  if (o.rateLimit !== undefined) patch.rateLimit = checkRateLimit(o.rateLimit);
  if (o.concurrency !== undefined) patch.concurrency = countOrNull(o.concurrency, "concurrency");
  if (o.groupConcurrency !== undefined)
    patch.groupConcurrency = countOrNull(o.groupConcurrency, "groupConcurrency");
  return Object.keys(patch).length === 0 ? undefined : patch;
}

function countOrNull(value: unknown, what: string): number | null {
  return value === null ? null : checkInteger(value, what, 1, MAX_COUNT);
}

function checkRateLimit(value: unknown): { max: number; duration: number } | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `rateLimit must be { max, duration } or null, got ${show(value)}`,
    );
  }
  const o = checkObject(value, "rateLimit");
  checkKnownKeys(o, ["max", "duration"], "rateLimit");
  const max = checkInteger(o.max, "rateLimit.max", 1, MAX_COUNT);
  const duration = checkPositiveDuration(o.duration, "rateLimit.duration");
  // The window's start (now - duration) must be a time both stores can hold: PostgreSQL's
  // timestamps end 4713 BC, about 2.1e14 ms back. A trillion ms (31 years) is ample.
  if (duration > MAX_RATE_WINDOW_MS) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `rateLimit.duration must be at most ${MAX_RATE_WINDOW_MS} ms (about 31 years), got ${show(o.duration)}`,
    );
  }
  return { max, duration };
}

/** The longest rate-limit window (ms). */
export const MAX_RATE_WINDOW_MS = 1e12;

/**
 * Whether a queue's settings make a worker claim only its free slots (no prefetch, no claim
 * ahead): any limit, or groups, whose turns a claim made ahead would take out of order.
 */
export function holdsSlots(settings: QueueSettings | null | undefined): boolean {
  const limits = settings?.limits;
  return (
    settings?.grouped === true ||
    (limits !== undefined &&
      (limits.rateLimit !== null || limits.concurrency !== null || limits.groupConcurrency !== null))
  );
}

interface Statement {
  patch: LimitsPatch;
  write: Promise<void>;
  failed?: boolean;
}

interface Known {
  limited: boolean;
  readAt: number;
  reading: Promise<boolean> | null;
}

/**
 * One Spool's view of its queues' limits: the writes its handles stated (a claim waits for the
 * queue's to commit, so a worker started right after `spool.queue(…)` is already bound by it),
 * and whether each queue is limited, read from the store at most once a second.
 */
export class QueueLimitsView {
  private readonly writes = new Map<string, Statement>();
  private readonly known = new Map<string, Known>();

  constructor(private readonly backend: Backend) {}

  /** A handle stated `patch` for `queue`: stored for every process, after any earlier statement. */
  state(queue: string, patch: LimitsPatch): void {
    const before = this.writes.get(queue)?.write ?? Promise.resolve();
    this.track(queue, {
      patch,
      write: before.catch(() => {}).then(() => this.backend.storeLimits(queue, patch)),
    });
    this.known.delete(queue);
  }

  private track(queue: string, statement: Statement): void {
    // Never an unhandled rejection: the claim that awaits it reports the failure.
    statement.write.catch(() => {
      statement.failed = true;
    });
    this.writes.set(queue, statement);
  }

  /**
   * Resolves once what this Spool stated for `queue` is stored; a write that failed is tried
   * again (and its failure reported to this caller), so a store back from an outage gets it.
   */
  stored(queue: string): Promise<void> | undefined {
    const statement = this.writes.get(queue);
    if (statement?.failed === true) {
      this.track(queue, { patch: statement.patch, write: this.backend.storeLimits(queue, statement.patch) });
    }
    return this.writes.get(queue)?.write;
  }

  /** Waits for every statement to be written (close() calls it before closing the store). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes.values()].map((s) => s.write));
  }

  /**
   * Whether workers of `queue` must claim only their free slots: a boolean when an answer is at
   * hand (one older than LIMITS_TTL_MS is refreshed in the background meanwhile, so a busy
   * worker's claims never wait for that read), else, the first time, a promise of one. False
   * when the store cannot say: the claim still obeys every limit, only the prefetch is at stake.
   */
  limited(queue: string): boolean | Promise<boolean> {
    const entry = this.known.get(queue);
    if (entry !== undefined && Date.now() - entry.readAt < LIMITS_TTL_MS) return entry.limited;
    if (entry !== undefined && entry.readAt > 0) {
      if (entry.reading === null) void this.refresh(queue, entry);
      return entry.limited;
    }
    if (entry !== undefined && entry.reading !== null) return entry.reading;
    return this.refresh(queue, { limited: false, readAt: 0, reading: null });
  }

  private refresh(queue: string, fresh: Known): Promise<boolean> {
    fresh.reading = (async () => {
      try {
        await this.writes.get(queue)?.write;
        fresh.limited = holdsSlots(await this.backend.readSettings(queue));
      } catch {
        // Keep the last answer; it is asked again in a second.
      }
      fresh.readAt = Date.now();
      fresh.reading = null;
      return fresh.limited;
    })();
    this.known.set(queue, fresh);
    return fresh.reading;
  }

  /** Whether `queue` was last seen limited (no read): a freed slot then wakes its workers. */
  seenLimited(queue: string): boolean {
    return this.known.get(queue)?.limited === true;
  }
}

/** The limits among a queue's options, for `spool.queue` (undefined: the handle states none). */
export function limitsOf<T>(options: QueueOptions<T> | undefined): LimitsPatch | undefined {
  return checkLimits(checkObject(options, "queue options"));
}
