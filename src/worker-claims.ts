// A worker's claims: the one it waits for when its buffer is empty, and the one it sends ahead
// while the buffer still holds what its handlers will run during a claim's round trip (on a
// store a network hop away, a claim costs ms: without it the handlers idle that long per
// claim). Both are timed, as the pace sizes claims to demand (worker-pace.ts).
import type { StoredJob } from "./backend.js";
import type { WorkerPace } from "./worker-pace.js";

export class WorkerClaims {
  private ahead: Promise<void> | null = null;
  /**
   * The last claim came back with all it asked for: only then is one sent ahead (a short one
   * means the queue ran dry, and the worker's next claim, when its buffer is empty, will tell).
   */
  private full = false;

  constructor(
    private readonly pace: WorkerPace,
    private readonly claim: (limit: number) => Promise<StoredJob[]>,
    /** Where the ahead claim's rows go: the worker's buffer. */
    private readonly buffer: StoredJob[],
    private readonly report: (error: unknown) => void,
  ) {}

  /** A claim that failed because the store closed meanwhile is no news. */
  private readonly reportOpen = (error: unknown): void => {
    if ((error as { code?: unknown } | null)?.code !== "CLOSED") this.report(error);
  };

  /** Claims for `free` slots plus the prefetch, and waits for it. */
  async now(free: number): Promise<StoredJob[]> {
    const limit = free + this.pace.prefetch();
    const rows = await this.pace.timeClaim(() => this.claim(limit));
    this.full = rows.length >= limit;
    return rows;
  }

  /** With the buffer this low, sends the next claim now; its rows join the buffer's end. */
  maybeAhead(): void {
    if (this.ahead !== null || !this.full || !this.pace.claimAhead(this.buffer.length)) return;
    const limit = this.pace.prefetch();
    this.full = false;
    this.ahead = this.pace
      .timeClaim(() => this.claim(limit))
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
