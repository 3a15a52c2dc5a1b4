// Held jobs: the one home of what becomes of a job its holder has, whoever the holder is. Queue
// (reserve, complete, fail) and Worker (a handler's outcome, a claimed row it cannot decode)
// both come here, so a completion, a failure, a burial and a retry delay follow one rule and
// one stored text. Neither Queue nor Worker is imported here: both use this, not each other.
import type { HeldOutcome, Hold, StoredJob, StoredResult } from "./backend.js";
import { type BackoffFn, backoffDelay } from "./backoff.js";
import type { PayloadCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { errorText } from "./errors.js";
import { rowHold } from "./tokens.js";
import type { Job } from "./types.js";

/** What a failure needs to know of the job: its attempts and its stored backoff policy. */
interface FailingJob {
  id: number;
  attempts: number;
  maxAttempts: number;
  backoff: string | null;
}

export class HeldJobs<T> {
  /**
   * Per-add function backoffs by job id. A function cannot be stored, so it applies only where
   * this queue object fails the job; elsewhere the job falls back to the queue default stored
   * with it. Dropped when this object sees the job finish.
   */
  private readonly jobBackoffs = new Map<number, BackoffFn>();

  constructor(
    readonly ctx: SpoolContext,
    /** The queue's name. */
    readonly queue: string,
    readonly codec: PayloadCodec<T>,
    /** The queue's default backoff: a function, or the stored JSON of a policy. */
    private readonly queueBackoff: BackoffFn | string | null,
  ) {}

  /** Keeps a per-add function backoff for the jobs just added with it. */
  remember(ids: readonly number[], backoff: BackoffFn): void {
    for (const id of ids) this.jobBackoffs.set(id, backoff);
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
      else this.ctx.signal(this.queue);
    }
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
