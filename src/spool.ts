// Spool: opens a store, hands out queues and channels, prunes finished jobs, and closes it all.
// Which backend a target names is open.ts's to decide; a standalone `channel()` is a Spool of
// its own, closed with the channel.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Backend } from "./backend.js";
import {
  type ChannelOptions,
  checkChannelOptions,
  openChannel,
  type Receiver,
  type Sender,
  type StandaloneChannelOptions,
} from "./channel.js";
import { resolveCodec } from "./codec.js";
import { SpoolContext } from "./context.js";
import { addFlow } from "./flow.js";
import { limitsOf } from "./limits.js";
import { checkLogger } from "./metrics/logger.js";
import { type SpoolMetrics, snapshot } from "./metrics/snapshot.js";
import { loadTracing } from "./metrics/tracing.js";
import { openBackend } from "./open.js";
import { Queue } from "./queue.js";
import { redactTarget } from "./redact.js";
import { type ScheduleInfo, type ScheduleOptions, toScheduleInfo, upsertSchedule } from "./schedule.js";
import { pokeScheduler, startScheduler } from "./scheduler.js";
import { DEFAULT_RETENTION } from "./settings.js";
import type { Durability, FlowJob, FlowNode, QueueOptions, SpoolOptions, SqliteDatabase } from "./types.js";
import { checkName, checkObject } from "./validate.js";

/** How often the housekeeping tick runs; each queue prunes at a pace set by its retention. */
const TICK_MS = 250;

export class Spool implements AsyncDisposable {
  /** What the Spool was opened on, with any password hidden. */
  readonly target: string;
  /** @internal */
  readonly ctx: SpoolContext;
  /** When each queue was last pruned (process clock: only a pace). */
  private readonly pruned = new Map<string, number>();
  private housekeeping = false;
  /** @internal for tests: housekeeping passes finished so far, whether they pruned or not. */
  housekeepingPasses = 0;
  private readonly tick: NodeJS.Timeout;
  private closing: Promise<void> | null = null;

  private constructor(backend: Backend, target: string, maxPayloadBytes: number) {
    this.ctx = new SpoolContext(backend, maxPayloadBytes);
    this.target = target;
    this.tick = setInterval(() => void this.housekeep(), TICK_MS);
    this.tick.unref();
  }

  /**
   * Opens a SQLite file (created if missing, WAL journal), `":memory:"`, or a `postgres://` URL;
   * or the file of your own open better-sqlite3 `Database`, whose transactions `queue.addSync`
   * then joins (Spool works on a connection of its own to that file, and never closes yours).
   * @example const spool = await Spool.open("jobs.db", { durability: "normal" })
   */
  static async open(target: string | SqliteDatabase, options?: SpoolOptions): Promise<Spool> {
    const logger = checkLogger((options as { logger?: unknown } | null | undefined)?.logger);
    const { backend, maxPayloadBytes, shown } = await openBackend(target, options);
    const spool = new Spool(backend, redactTarget(shown), maxPayloadBytes);
    spool.ctx.instruments.logger = backend.notifier.logger = logger;
    spool.ctx.instruments.tracing = await loadTracing();
    return spool;
  }

  /** Which storage engine serves this Spool: "sqlite" or "postgres". */
  get kind(): string {
    return this.ctx.backend.kind;
  }

  /**
   * A handle on the queue `name`; `defaults` apply to every job added through it. A `retention`
   * stated here is stored with the queue for every process (written in the background, awaited
   * by the first completion, the housekeeping and close); without one, the stored retention
   * applies, and nothing is written. Limits (`rateLimit`, `concurrency`, `groupConcurrency`)
   * likewise: each one stated is stored (`null` removes it), and this Spool's claims wait for
   * the write; the others stay as stored.
   */
  queue<S extends StandardSchemaV1>(
    name: string,
    defaults: QueueOptions<StandardSchemaV1.InferOutput<S>> & { schema: S },
  ): Queue<StandardSchemaV1.InferOutput<S>, StandardSchemaV1.InferInput<S>>;
  queue<T = unknown>(name: string, defaults?: QueueOptions<T>): Queue<T>;
  queue<T = unknown>(name: string, defaults?: QueueOptions<T>): Queue<T> {
    checkName(name);
    this.ctx.assertOpen();
    const queue = new Queue<T>(this.ctx, name, defaults);
    // Every option is checked before anything is stated.
    const limits = limitsOf(defaults);
    if (defaults?.retention !== undefined) this.ctx.settings.state(name, queue.retention);
    if (limits !== undefined) this.ctx.limits.state(name, limits);
    return queue;
  }

  /**
   * Adds a tree of jobs in one transaction, children first: each node's job depends on its
   * `children` (it runs once they all completed, and ends dead if one does), and may name
   * `dependsOn` of its own too. All of it is checked and encoded before anything is written.
   * Returns the same tree with each job's `id` and queue name.
   * @example
   * const { id } = await spool.flow({ queue: "publish", payload: post, children: [
   *   { queue: "resize", payload: { img: 1 } }, { queue: "resize", payload: { img: 2 } } ] })
   */
  flow(tree: FlowNode): Promise<FlowJob> {
    return addFlow(this.ctx, tree);
  }

  /** Names of the queues that hold jobs. */
  async queues(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.ctx.backend.queues();
  }

  /**
   * Per queue (in the store, or used by this process): counts by state, paused, the oldest
   * pending job's age; and this process's counters and wait/run percentiles since open.
   */
  async metrics(): Promise<SpoolMetrics> {
    this.ctx.assertOpen();
    return snapshot(this.ctx);
  }

  /**
   * Stores (or replaces) the cron schedule `name`: at each fire, one job is added to
   * `options.queue`, exactly once across every process that runs a scheduler. Replacing a
   * schedule with the same cron and tz keeps its next fire, so calling this on every start
   * neither skips nor repeats one. See docs/scheduling.md.
   * @example await spool.schedule("nightly-report", "0 3 * * *", { queue: "reports", tz: "Europe/Berlin" })
   */
  async schedule<T = unknown>(name: string, cron: string, options: ScheduleOptions<T>): Promise<void> {
    this.ctx.assertOpen();
    await upsertSchedule(this.ctx, name, cron, options);
    pokeScheduler(this.ctx);
  }

  /** Deletes the schedule `name`; false when there was none. Jobs it already added stay. */
  async unschedule(name: string): Promise<boolean> {
    checkName(name, "schedule name");
    this.ctx.assertOpen();
    return this.ctx.backend.schedules.remove(name);
  }

  /** The stored schedules, by name, with their next and last fire. */
  async schedules(): Promise<ScheduleInfo[]> {
    this.ctx.assertOpen();
    const { schedules } = await this.ctx.backend.schedules.list();
    return schedules.map(toScheduleInfo);
  }

  /**
   * Runs this Spool's scheduler in a process that runs no worker (a worker starts it on its
   * own). `stop()` stops it, once no worker of this Spool and no other handle needs it;
   * `close()` stops it in any case.
   */
  runScheduler(): { stop(): Promise<void> } {
    this.ctx.assertOpen();
    return startScheduler(this.ctx, false).hold();
  }

  /** A sender and a receiver over the queue `name` of this store. */
  async channel<T = unknown>(name: string, options?: ChannelOptions<T>): Promise<[Sender<T>, Receiver<T>]> {
    checkName(name, "channel name");
    this.ctx.assertOpen();
    return this.openChannel(name, options, null);
  }

  /** @internal The ends of a channel over the queue `name`, for `spool.channel` and `channel()`. */
  openChannel<T>(
    name: string,
    options: ChannelOptions<T> | undefined,
    onBothClosed: (() => Promise<void>) | null,
  ): [Sender<T>, Receiver<T>] {
    const { maxSize, codec } = checkChannelOptions<T>(options);
    const queue = this.queue<T>(name, codec === undefined ? {} : { codec });
    return openChannel(queue, maxSize, onBothClosed);
  }

  /** Stops the workers this Spool started (gracefully), then closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.tick);
      await Promise.allSettled([...this.ctx.stoppables].map((s) => s.stop()));
      // A retention stated just before closing (a short script) still reaches the store.
      await this.ctx.settings.flush();
      await this.ctx.limits.flush();
      this.ctx.markClosed();
      await this.ctx.backend.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Removes finished jobs past the retention stored with their queue (the contract's default
   * for a queue that stored none), in each queue this Spool works (runs a worker on, completes
   * jobs of, states the retention of, has a channel on), each at most every retention/2 (and at
   * least once a minute): the processes that finish jobs clean up after them. A Spool that only
   * looks (stats, list, the dashboard) works no queue, so it changes nothing by being open.
   * The backend reads the stored retention in the same transaction as it deletes; the copy
   * read here only sets the pace.
   */
  private async housekeep(): Promise<void> {
    if (this.ctx.isClosed || this.closing !== null || this.housekeeping) return;
    this.housekeeping = true;
    try {
      await this.prune();
    } catch {
      // Housekeeping is retried on the next tick; a busy or closing store is no reason to crash.
    } finally {
      this.housekeeping = false;
      this.housekeepingPasses++;
    }
  }

  private async prune(): Promise<void> {
    const { backend, settings } = this.ctx;
    const now = Date.now();
    for (const name of [...settings.workedQueues]) {
      const last = this.pruned.get(name);
      // The pace follows the copy at hand; the first turn of a queue reads the store.
      const known = settings.peek(name)?.retention ?? DEFAULT_RETENTION;
      if (last !== undefined && now - last < pace(known)) continue;
      if (this.closing !== null) return;
      this.pruned.set(name, now);
      try {
        await settings.retention(name); // refreshes the copy (at most once a second)
        await backend.prune(name, DEFAULT_RETENTION);
      } catch {
        // This queue is tried again at its next turn; the others still get theirs.
      }
    }
  }
}

/** How often a queue is pruned: half its shortest retention, between one tick and a minute. */
function pace({ completed, dead }: { completed: number; dead: number }): number {
  return Math.max(TICK_MS, Math.min(60_000, Math.min(completed || 60_000, dead) / 2));
}

/**
 * Opens a channel over its own store at `path`, closed once both ends are closed.
 * @example const [tx, rx] = await channel<Msg>("my_queue.db", "messages", { maxSize: 100_000 })
 */
export async function channel<T = unknown>(
  path: string,
  name: string,
  options?: StandaloneChannelOptions<T>,
): Promise<[Sender<T>, Receiver<T>]> {
  checkName(name, "channel name");
  const o = checkObject(options, "channel options");
  // Every option is checked before the store is opened: a refused call creates no file.
  resolveCodec(checkChannelOptions<T>(o).codec);
  const spool = await Spool.open(
    path,
    o.durability === undefined ? {} : { durability: o.durability as Durability },
  );
  try {
    return spool.openChannel<T>(name, options, () => spool.close());
  } catch (error) {
    await spool.close();
    throw error;
  }
}
