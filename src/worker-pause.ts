// A worker's watch on its queue's pause. Claims obey the stored pause by themselves (the claim
// statement reads it), so this only hands back what the worker claimed ahead and has not started:
// such jobs must not sit reserved while the queue is paused. It looks when the queue may have
// been paused (a pause here, any signal from another process, the heartbeat) and only while
// the worker holds jobs it has not started: one read at a time, one more if asked meanwhile.
import type { StoredJob } from "./backend.js";
import { readPaused } from "./queue-control.js";
import type { ClaimGate, WorkerClaims } from "./worker-claims.js";
import type { WorkedQueue } from "./worker-options.js";

export class PauseWatch implements ClaimGate {
  /** Bumped by each pause made in this process: a claim sent before it may hold jobs to give back. */
  generation = 0;
  /** Paused here and not resumed here since: rows of claims sent before the pause go back. */
  private heldBack = false;
  private looking: Promise<void> | null = null;
  private again = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly queue: WorkedQueue<unknown>,
    /** The worker's claimed, unstarted jobs, and its claims (one may be out ahead). */
    private readonly buffer: StoredJob[],
    private readonly claims: WorkerClaims,
    /** Hands jobs back unstarted (the worker's release). */
    private readonly handBack: (rows: StoredJob[]) => Promise<void>,
    private readonly stopping: () => boolean,
    private readonly report: (error: unknown) => void,
  ) {
    this.unsubscribe = queue.ctx.onControl(queue.name, (paused) => {
      if (paused === true) this.pausedHere();
      else {
        if (paused === false) this.heldBack = false; // resumed here: claims out may keep their rows
        this.maybe();
      }
    });
    claims.gate = this;
  }

  /**
   * The queue was paused in this process, committed: what the worker holds unstarted goes back
   * now, with no read (a round trip meanwhile would let the loop start it), and so do the rows
   * of any claim already out (see admit).
   */
  private pausedHere(): void {
    this.generation++;
    this.heldBack = true;
    if (this.buffer.length > 0 && !this.stopping()) this.giveBack(this.buffer.splice(0));
  }

  admit(rows: StoredJob[], generation: number): StoredJob[] {
    if (generation === this.generation || !this.heldBack || rows.length === 0 || this.stopping()) return rows;
    this.giveBack(rows);
    return [];
  }

  private giveBack(rows: StoredJob[]): void {
    this.handBack(rows).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code !== "CLOSED") this.report(error);
    });
  }

  /**
   * Whether the queue is paused as stored, or its limits hold back jobs that are ready (a full
   * rate window, every slot taken): either way a claim that found nothing does not mean the
   * queue is drained. False when the store cannot say.
   */
  async isPaused(): Promise<boolean> {
    try {
      if (await readPaused(this.queue)) return true;
      const { ctx, name } = this.queue;
      return ctx.limits.seenLimited(name) && (await ctx.backend.oldestPendingAge(name)) !== null;
    } catch {
      return false;
    }
  }

  /** The queue may have been paused: look, if the worker holds jobs it has not started. */
  maybe(): void {
    if (this.buffer.length === 0 && !this.claims.inFlight) return;
    if (this.looking !== null) {
      this.again = true;
      return;
    }
    this.looking = this.once().finally(() => {
      this.looking = null;
      if (!this.again) return;
      this.again = false;
      this.maybe();
    });
  }

  private async once(): Promise<void> {
    try {
      if (!(await readPaused(this.queue))) return;
      await this.claims.settled(); // a claim sent before the pause may still bring jobs
      if (!this.stopping()) await this.handBack(this.buffer.splice(0));
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== "CLOSED") this.report(error);
    }
  }

  /** Stops listening; resolves once no look is in flight. */
  async close(): Promise<void> {
    this.unsubscribe();
    while (this.looking !== null) await this.looking;
  }
}
