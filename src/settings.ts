/*
 * Queue settings as one Spool sees them. The store holds the truth (one row per queue, shared by
 * every process); this cache keeps each queue's row for SETTINGS_TTL_MS so a busy worker does
 * not read it on every completion, and carries the retention this Spool's handles state to the
 * store. A handle that states no retention never writes here: it follows what is stored.
 */
import type { Backend, QueueSettings } from "./backend.js";

/** How long a queue's stored settings are trusted before they are read again. */
export const SETTINGS_TTL_MS = 1000;
/** The contract's retention, for a queue that never stored one. */
export const DEFAULT_RETENTION = { completed: 3_600_000, dead: 14 * 24 * 3_600_000 } as const;

export interface RetentionMs {
  completed: number;
  dead: number;
}

interface Cached {
  value: QueueSettings | null;
  readAt: number;
  /** A read in flight, shared by every caller that found the entry stale. */
  reading: Promise<QueueSettings | null> | null;
}

interface Statement {
  /** JSON of the retention stated, so stating the same again writes nothing. */
  key: string;
  retention: RetentionMs;
  write: Promise<void>;
  /** The write committed: nothing left to wait for. */
  done: boolean;
  failed: boolean;
}

export class SettingsCache {
  private readonly cached = new Map<string, Cached>();
  private readonly stated = new Map<string, Statement>();
  /** The queues this Spool works (see `works`). */
  private readonly worked = new Set<string>();

  constructor(private readonly backend: Backend) {}

  /**
   * This Spool works `queue`: it runs a worker on it, completes its jobs, states its retention
   * or has a channel on it. Such a Spool prunes the queue by its stored retention; one that
   * only looks never does.
   */
  works(queue: string): void {
    this.worked.add(queue);
  }

  /** The queues this Spool works. */
  get workedQueues(): ReadonlySet<string> {
    return this.worked;
  }

  /**
   * A handle stated `retention` for `queue`: it becomes the queue's retention for every process.
   * The write starts now and is awaited by the first operation that depends on it (a
   * completion, the housekeeping) and by close(); stating the same retention again writes
   * nothing, stating another one writes after the previous write.
   */
  state(queue: string, retention: RetentionMs): void {
    this.worked.add(queue);
    const key = JSON.stringify([retention.completed, retention.dead]);
    const previous = this.stated.get(queue);
    if (previous !== undefined && previous.key === key && !previous.failed) return;
    this.cached.set(queue, { value: { retention }, readAt: Date.now(), reading: null });
    const after = previous?.write.catch(() => {}) ?? Promise.resolve();
    const statement: Statement = { key, retention, write: after, done: false, failed: false };
    this.track(
      statement,
      after.then(() => this.backend.storeRetention(queue, retention)),
    );
    this.stated.set(queue, statement);
  }

  /** The settings last read (or stated) for `queue`, however old; undefined when never read. */
  peek(queue: string): QueueSettings | null | undefined {
    return this.cached.get(queue)?.value;
  }

  /** Waits for the retention this Spool stated for `queue` to be stored; retries a failed write. */
  private async stored(queue: string): Promise<void> {
    const statement = this.stated.get(queue);
    if (statement === undefined) return;
    if (statement.failed) {
      statement.failed = false;
      this.track(statement, this.backend.storeRetention(queue, statement.retention));
    }
    await statement.write;
  }

  private track(statement: Statement, write: Promise<void>): void {
    statement.write = write;
    statement.done = false;
    // Never an unhandled rejection: a failed write is reported to the operation that awaits it.
    write.then(
      () => {
        if (statement.write === write) statement.done = true;
      },
      () => {
        if (statement.write === write) statement.failed = true;
      },
    );
  }

  /** Waits for every stated retention to be written (close() calls it before closing the store). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.stated.values()].map((s) => s.write));
  }

  /**
   * The retention in force for `queue`: the stored one, or the contract's default when none is
   * stored. Read from the store at most every SETTINGS_TTL_MS; when a refresh fails, the last
   * value read serves (a store that cannot be read will refuse the completion anyway).
   * Completions call it, which makes this Spool one that finishes jobs (and so may prune).
   */
  retention(queue: string): RetentionMs | Promise<RetentionMs> {
    this.worked.add(queue);
    // The common case (a completion on a busy worker) answers without a promise.
    const statement = this.stated.get(queue);
    const entry = this.cached.get(queue);
    if ((statement === undefined || statement.done) && entry !== undefined && this.isFresh(entry)) {
      return entry.value?.retention ?? DEFAULT_RETENTION;
    }
    return this.retentionFromStore(queue);
  }

  private async retentionFromStore(queue: string): Promise<RetentionMs> {
    await this.stored(queue);
    const settings = await this.read(queue);
    return settings?.retention ?? DEFAULT_RETENTION;
  }

  private isFresh(entry: Cached): boolean {
    return Date.now() - entry.readAt < SETTINGS_TTL_MS;
  }

  private async read(queue: string): Promise<QueueSettings | null> {
    const entry = this.cached.get(queue);
    if (entry !== undefined && this.isFresh(entry)) return entry.value;
    if (entry !== undefined && entry.reading !== null) return entry.reading;
    const fresh: Cached = entry ?? { value: null, readAt: 0, reading: null };
    const reading = this.backend.readSettings(queue).then(
      (value) => {
        fresh.value = value;
        fresh.readAt = Date.now();
        return value;
      },
      (error: unknown) => {
        // Only a value once read (or stated) may stand in: never guess "nothing stored".
        if (fresh.readAt === 0) throw error;
        return fresh.value;
      },
    );
    fresh.reading = reading;
    this.cached.set(queue, fresh);
    try {
      return await reading;
    } finally {
      fresh.reading = null;
    }
  }
}
