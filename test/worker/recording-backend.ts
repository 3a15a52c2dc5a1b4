/*
 * A double of our own seam for the worker's scheduling tests: every call goes to a real
 * `:memory:` SQLite backend, and the double records what the worker asked for (claims and their
 * limits, how many were in flight), lets a test hold an answer or the completions back,
 * fail the next claim, and play another process's wake-up through its notifier. No timing: a
 * test waits for what the double records, never for a guessed number of ms.
 */
import type {
  Backend,
  BackendOptions,
  BrowseRange,
  ClaimBound,
  Decoded,
  ExtendedMany,
  FlowInsert,
  HeldOutcome,
  HeldRef,
  Hold,
  LimitsPatch,
  NewJob,
  Notifier,
  QueueSettings,
  StoredDependency,
  StoredJob,
  StoredResult,
  Taken,
  TakenJob,
} from "../../src/backend.js";
import { openSqliteBackend } from "../../src/backends/sqlite/index.js";
import { SpoolContext } from "../../src/context.js";
import { Queue } from "../../src/queue.js";
import type { JobState } from "../../src/types.js";

/** A promise a test opens when it chooses. */
export class Gate {
  readonly opened: Promise<void>;
  isOpen = false;
  private resolve!: () => void;
  constructor() {
    this.opened = new Promise((r) => {
      this.resolve = r;
    });
  }
  open(): void {
    this.isOpen = true;
    this.resolve();
  }
}

/** Wake-ups the test sends by hand, as another process's change would arrive. */
class HandNotifier implements Notifier {
  private readonly listeners = new Set<(queue: string | null) => void>();
  readonly announced: string[] = [];
  subscribe(listener: (queue: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  announce(queue: string): void {
    this.announced.push(queue);
  }
  /** Another process changed `queue` (null: some queue). */
  fire(queue: string | null): void {
    for (const listener of this.listeners) listener(queue);
  }
}

export class RecordingBackend implements Backend {
  readonly kind = "recording";
  /** Its claims can be held back (holdClaims): a round trip, as a remote store's. */
  readonly claimsHoldThread = false;
  readonly notifier = new HandNotifier();
  /** Every claim asked for, in order: its limit. */
  readonly claims: number[] = [];
  claimsInFlight = 0;
  maxClaimsInFlight = 0;
  nextDueInCalls = 0;
  /** Completions asked for, and those the store has answered. */
  completesAsked = 0;
  completesDone = 0;
  /** What each release handed back: the ids, and whether their handlers had started. */
  readonly releases: Array<{ ids: number[]; started: boolean }> = [];
  /** extendMany calls made (counted before holdExtends holds them back). */
  extendsAsked = 0;
  /** When set, extendMany waits for it before it reaches the store. */
  holdExtends: Gate | null = null;
  /** Claims the store has answered (counted before holdClaims holds the answer back). */
  claimsAnswered = 0;
  /** When set, a claim's answer (already taken from the store) waits for it. */
  holdClaims: Gate | null = null;
  /** When set, nextDueIn's answer (already taken from the store) waits for it. */
  holdNextDueIn: Gate | null = null;
  /** When set, completions wait for it before they reach the store. */
  holdCompletes: Gate | null = null;
  /** When set, the next claim rejects with it instead of reaching the store. */
  failNextClaim: Error | null = null;

  private constructor(readonly store: Backend) {}

  get schedules() {
    return this.store.schedules;
  }

  static async open(): Promise<RecordingBackend> {
    const defaults = {
      durability: "full" as const,
      busyTimeout: 5000,
      fileMode: 0o600,
      schema: "spool",
      crossProcessWakeups: false,
      create: true,
      migrate: true,
      clock: () => Date.now(),
    };
    const options: BackendOptions = { ...defaults };
    return new RecordingBackend(await openSqliteBackend(":memory:", options));
  }

  async claim(queue: string, limit: number, leaseMs: number, bound?: ClaimBound): Promise<StoredJob[]> {
    this.claims.push(limit);
    this.claimsInFlight++;
    this.maxClaimsInFlight = Math.max(this.maxClaimsInFlight, this.claimsInFlight);
    try {
      const failure = this.failNextClaim;
      if (failure !== null) {
        this.failNextClaim = null;
        throw failure;
      }
      const rows = await this.store.claim(queue, limit, leaseMs, bound);
      this.claimsAnswered++;
      await this.holdClaims?.opened;
      return rows;
    } finally {
      this.claimsInFlight--;
    }
  }

  async complete(
    queue: string,
    id: number,
    hold: Hold,
    result: StoredResult | null,
    keep: boolean,
  ): Promise<HeldOutcome> {
    this.completesAsked++;
    await this.holdCompletes?.opened;
    const outcome = await this.store.complete(queue, id, hold, result, keep);
    this.completesDone++;
    return outcome;
  }

  async nextDueIn(queue: string): Promise<number | null> {
    this.nextDueInCalls++;
    const due = await this.store.nextDueIn(queue);
    await this.holdNextDueIn?.opened;
    return due;
  }

  release(queue: string, held: ReadonlyArray<HeldRef>, started: boolean): Promise<void> {
    this.releases.push({ ids: held.map((h) => h.id), started });
    return this.store.release(queue, held, started);
  }

  // Everything else goes straight to the store.
  enqueue(queue: string, jobs: NewJob[], maxSize?: number, inserted?: boolean[]): Promise<number[] | null> {
    return this.store.enqueue(queue, jobs, maxSize, inserted);
  }
  enqueueFlow(jobs: readonly FlowInsert[]): Promise<number[]> {
    return this.store.enqueueFlow(jobs);
  }
  dependencies(queue: string, id: number): Promise<StoredDependency[]> {
    return this.store.dependencies(queue, id);
  }
  take<T>(queue: string, limit: number, decode: (job: TakenJob) => Decoded<T>): Promise<Taken<T>> {
    return this.store.take(queue, limit, decode);
  }
  fail(queue: string, id: number, hold: Hold, error: string, retryInMs: number | null): Promise<HeldOutcome> {
    return this.store.fail(queue, id, hold, error, retryInMs);
  }
  extend(queue: string, id: number, hold: Hold, leaseMs: number): Promise<HeldOutcome> {
    return this.store.extend(queue, id, hold, leaseMs);
  }

  progress(queue: string, id: number, hold: Hold, progress: string): Promise<HeldOutcome> {
    return this.store.progress(queue, id, hold, progress);
  }
  async extendMany(queue: string, held: ReadonlyArray<HeldRef>, leaseMs: number): Promise<ExtendedMany> {
    this.extendsAsked++;
    await this.holdExtends?.opened;
    return this.store.extendMany(queue, held, leaseMs);
  }
  get(queue: string, id: number): Promise<StoredJob | null> {
    return this.store.get(queue, id);
  }
  list(queue: string, state: JobState, limit: number, afterId: number, previewBytes?: number) {
    return this.store.list(queue, state, limit, afterId, previewBytes);
  }
  browse(queue: string, states: readonly JobState[], range: BrowseRange, previewBytes?: number) {
    return this.store.browse(queue, states, range, previewBytes);
  }
  counts(queue: string) {
    return this.store.counts(queue);
  }
  queues(): Promise<string[]> {
    return this.store.queues();
  }
  oldestPendingAge(queue: string): Promise<number | null> {
    return this.store.oldestPendingAge(queue);
  }
  backlog(queue: string): Promise<number> {
    return this.store.backlog(queue);
  }
  retry(queue: string, ids: number[] | null): Promise<number> {
    return this.store.retry(queue, ids);
  }
  remove(queue: string, id: number): Promise<boolean> {
    return this.store.remove(queue, id);
  }
  purge(queue: string, state: "completed" | "dead", olderThanMs: number | null): Promise<number> {
    return this.store.purge(queue, state, olderThanMs);
  }
  clear(queue: string, keepDead: boolean): Promise<number> {
    return this.store.clear(queue, keepDead);
  }
  readSettings(queue: string): Promise<QueueSettings | null> {
    return this.store.readSettings(queue);
  }
  storeRetention(queue: string, retention: { completed: number; dead: number }): Promise<void> {
    return this.store.storeRetention(queue, retention);
  }

  storePaused(queue: string, paused: boolean): Promise<void> {
    return this.store.storePaused(queue, paused);
  }
  storeLimits(queue: string, patch: LimitsPatch): Promise<void> {
    return this.store.storeLimits(queue, patch);
  }
  prune(queue: string, defaults: { completed: number; dead: number }): Promise<number> {
    return this.store.prune(queue, defaults);
  }
  close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * A queue whose core runs on `backend`. The one place these tests assemble the core by hand:
 * `Spool.open` picks its backend from the target, and a double is no target.
 */
export function queueOn<T>(backend: Backend, name = "q"): { queue: Queue<T>; close(): Promise<void> } {
  const ctx = new SpoolContext(backend, 64 * 1024 * 1024);
  const queue = new Queue<T>(ctx, name, undefined);
  return {
    queue,
    async close() {
      await Promise.allSettled([...ctx.stoppables].map((s) => s.stop({ timeout: 0 })));
      ctx.markClosed();
      await backend.close();
    },
  };
}
