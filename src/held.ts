// Held jobs: the one home of what becomes of a job its holder has, whoever the holder is. Queue
// (reserve, complete, fail) and Worker (a handler's outcome, a claimed row it cannot decode)
// both come here, so a completion, a failure, a burial and a retry delay follow one rule and
// one stored text. Neither Queue nor Worker is imported here: both use this, not each other.
import type { HeldOutcome, Hold, StoredJob, StoredResult } from "./backend.js";
import { type BackoffFn, backoffDelay } from "./backoff.js";
import type { PayloadCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { errorText } from "./errors.js";
import type { QueueMeter } from "./metrics/instruments.js";
import { rowHold } from "./tokens.js";
import type { Job } from "./types.js";

/** What a failure needs to know of the job: its attempts and its stored backoff policy. */
interface FailingJob {
  id: number;
  attempts: number;
  maxAttempts: number;
  backoff: string | null;
}

/** The states in which a job can still fail, and so still needs its backoff. */
const LIVE = ["pending", "delayed", "reserved"] as const;
/** The fewest per-add backoffs kept before the store is asked which jobs still live. */
const PRUNE_FLOOR = 1024;

export class HeldJobs<T> {
  /**
   * Per-add function backoffs by job id. A function cannot be stored, so it applies only where
   * this queue object fails the job; elsewhere the job falls back to the queue default stored
   * with it. Dropped when this object sees the job finish.
   */
  private readonly jobBackoffs = new Map<number, BackoffFn>();
  /** The size of jobBackoffs at which it is next checked against the store (see remember). */
  private pruneAt = PRUNE_FLOOR;
  private pruning = false;
  /** This process's counts and times for the queue (spool.metrics()). */
  readonly meter: QueueMeter;

  constructor(
    readonly ctx: SpoolContext,
    /** The queue's name. */
    readonly queue: string,
    readonly codec: PayloadCodec<T>,
    /** The queue's default backoff: a function, or the stored JSON of a policy. */
    private readonly queueBackoff: BackoffFn | string | null,
  ) {
    this.meter = ctx.instruments.meter(queue);
  }

  /** Keeps a per-add function backoff for the jobs just added with it. */
  remember(ids: readonly number[], backoff: BackoffFn): void {
    for (const id of ids) this.jobBackoffs.set(id, backoff);
    this.maybePrune();
  }

  private maybePrune(): void {
    if (this.jobBackoffs.size < this.pruneAt || this.pruning) return;
    this.pruning = true;
    this.pruneBackoffs()
      .catch(() => {
        // Kept too long costs memory only: try again when the map has grown as much again.
        this.pruneAt = 2 * this.jobBackoffs.size;
      })
      .finally(() => {
        this.pruning = false;
        this.maybePrune(); // adds made meanwhile may have passed the new threshold
      });
  }

  /**
   * Drops the backoffs of jobs no longer live: finished by another process, this object never
   * sees them finish. One read of the live jobs in the map's id range; the next check waits
   * until the map has doubled past what stays, so the reads cost O(1) per add over time.
   */
  private async pruneBackoffs(): Promise<void> {
    const ids = [...this.jobBackoffs.keys()];
    let after = Number.POSITIVE_INFINITY;
    let through = 0;
    for (const id of ids) {
      after = Math.min(after, id - 1);
      through = Math.max(through, id);
    }
    const live = new Set<number>();
    for (let from = after; ; ) {
      const page = await this.ctx.backend.browse(
        this.queue,
        LIVE,
        { after: from, through, limit: 10_000 },
        0,
      );
      for (const row of page) live.add(row.id);
      const last = page[page.length - 1];
      if (page.length < 10_000 || last === undefined) break;
      from = last.id;
    }
    for (const id of ids) if (!live.has(id)) this.jobBackoffs.delete(id);
    this.pruneAt = Math.max(PRUNE_FLOOR, 2 * this.jobBackoffs.size);
  }

  /** A job this object saw finish (or removed) needs its in-memory backoff no more. */
  forget(id: number): void {
    this.jobBackoffs.delete(id);
  }

  /** Every job of the queue is gone (clear). */
  forgetAll(): void {
    this.jobBackoffs.clear();
  }

  /** Decodes a claimed row; throws the codec's error. */
  toJob(row: StoredJob): Job<T> {
    const job: Job<T> = {
      id: row.id,
      queue: row.queue,
      payload: this.codec.decode(row.payload, row.format),
      attempts: row.attempts,
      maxAttempts: row.maxAttempts,
      priority: row.priority,
      createdAt: new Date(row.createdAt),
      runAt: new Date(row.runAt),
      leaseUntil: new Date(row.leaseUntil ?? 0),
    };
    if (row.key !== null) job.key = row.key;
    job.token = row.claims;
    return job;
  }

  /** A claimed job whose payload cannot be decoded becomes dead with the codec's error. */
  async bury(row: StoredJob, cause: unknown): Promise<void> {
    await this.ctx.backend.fail(this.queue, row.id, rowHold(row), `decode failed: ${errorText(cause)}`, null);
    this.forget(row.id);
    this.meter.failure(true);
  }

  /**
   * The one completion of a held job. The queue's stored retention decides whether it is kept
   * (whatever the handle stated: settings.ts). The backend is called in this same turn when
   * that retention is at hand, so a worker's completions of one turn share one SQLite
   * transaction.
   */
  complete(id: number, hold: Hold, stored: StoredResult | null): Promise<HeldOutcome> {
    const done = (retention: { completed: number }) =>
      this.ctx.backend.complete(this.queue, id, hold, stored, retention.completed > 0).then((outcome) => {
        if (outcome === "ok") this.forget(id);
        this.meter.completion(outcome);
        // A limited queue's slot is free: its workers here may claim again (other processes
        // hear of it from the store).
        if (outcome === "ok" && this.ctx.limits.seenLimited(this.queue)) this.ctx.signal(this.queue);
        return outcome;
      });
    const retention = this.ctx.settings.retention(this.queue);
    return retention instanceof Promise ? retention.then(done) : done(retention);
  }

  /**
   * The one failure of a held job: dead once its attempts are spent, else pending after
   * `retryIn` or its backoff (retryDelay), with the error's one stored text.
   */
  async fail(
    row: FailingJob,
    hold: Hold,
    error: unknown,
    retryIn?: number,
  ): Promise<{ outcome: HeldOutcome; state: "pending" | "dead" }> {
    const dead = row.attempts >= row.maxAttempts;
    const delay = dead ? null : (retryIn ?? this.retryDelay(row, error));
    const outcome = await this.ctx.backend.fail(this.queue, row.id, hold, errorText(error), delay);
    if (outcome === "ok") {
      if (dead) this.forget(row.id);
      if (!dead || this.ctx.limits.seenLimited(this.queue)) this.ctx.signal(this.queue);
      this.meter.failure(dead);
    } else this.meter.refused(outcome);
    return { outcome, state: dead ? "dead" : "pending" };
  }

  /**
   * The retry delay after the job's current attempt failed: the job's own backoff (a per-add
   * function held here, else the policy stored with it), then the queue's default, then the
   * built-in exponential one.
   */
  private retryDelay(row: FailingJob, error: unknown): number {
    return backoffDelay([this.jobBackoffs.get(row.id), row.backoff, this.queueBackoff], row.attempts, error);
  }
}
