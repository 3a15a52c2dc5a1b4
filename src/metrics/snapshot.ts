// spool.metrics(): the stored sizes of every queue (those in the store and those this process
// uses) with their oldest pending age, and this process's counters and latency percentiles.
import type { SpoolContext } from "../context.js";
import type { QueueSize } from "../types.js";
import { LatencyHistogram, type Percentiles } from "./histogram.js";

/** What `spool.metrics()` returns. */
export interface SpoolMetrics {
  /** Per queue, read from the store: counts by state, paused, and the oldest pending job's age. */
  queues: Record<string, QueueMetrics>;
  /** This process's counts since the Spool was opened, all queues together. */
  counters: MetricCounters;
  /** This process's wait (due → started) and run (handler) times in ms since open. */
  latency: { waitMs: Percentiles; runMs: Percentiles };
}

export type QueueMetrics = QueueSize & { paused: boolean; oldestPendingMs: number | null };

export interface MetricCounters {
  added: number;
  completed: number;
  failed: number;
  retried: number;
  dead: number;
  leaseLost: number;
}

export type { Percentiles } from "./histogram.js";

/** The queues metrics cover: those in the store and those this process used, sorted. */
export async function metricQueues(ctx: SpoolContext): Promise<string[]> {
  const names = new Set(await ctx.backend.queues());
  // A queue this process works (a worker, a channel, a stated retention) or did something with;
  // a handle alone does not count (a metric series per name ever passed to spool.queue()).
  for (const name of ctx.settings.workedQueues) names.add(name);
  for (const [name, meter] of ctx.instruments.meters) if (meter.used) names.add(name);
  return [...names].sort();
}

/** One queue's stored metrics. */
export async function queueMetrics(ctx: SpoolContext, name: string): Promise<QueueMetrics> {
  const [size, oldestPendingMs] = await Promise.all([
    ctx.backend.counts(name),
    ctx.backend.oldestPendingAge(name),
  ]);
  return { ...size, oldestPendingMs };
}

export async function snapshot(ctx: SpoolContext): Promise<SpoolMetrics> {
  const queues: Record<string, QueueMetrics> = {};
  const names = await metricQueues(ctx);
  const read = await readAll(names, (name) => queueMetrics(ctx, name));
  names.forEach((name, i) => {
    // Defined, not assigned: a queue another writer named "__proto__" is a key like any other.
    Object.defineProperty(queues, name, {
      value: read[i],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  const counters: MetricCounters = { added: 0, completed: 0, failed: 0, retried: 0, dead: 0, leaseLost: 0 };
  const wait = new LatencyHistogram();
  const run = new LatencyHistogram();
  for (const meter of ctx.instruments.meters.values()) {
    counters.added += meter.added;
    counters.completed += meter.completed;
    counters.failed += meter.failed;
    counters.retried += meter.retried;
    counters.dead += meter.dead;
    counters.leaseLost += meter.leaseLost;
    wait.merge(meter.wait);
    run.merge(meter.run);
  }
  return { queues, counters, latency: { waitMs: wait.percentiles(), runMs: run.percentiles() } };
}

/**
 * How many queues' reads are in flight at once: on PostgreSQL each is a round trip, so a store
 * with thousands of queues is read a pool's worth at a time, not one by one (a scrape must end
 * within Prometheus's scrape_timeout); on SQLite the reads run one after another anyway.
 */
const READS_AT_ONCE = 8;

/** `read` of every name, READS_AT_ONCE at a time, results in the names' order. */
export async function readAll<R>(names: readonly string[], read: (name: string) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(names.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < names.length && !failed) {
      const i = next++;
      try {
        out[i] = await read(names[i] as string);
      } catch (error) {
        failed = true; // the caller is told at once: no lane reads on for nothing
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, names.length) }, lane));
  return out;
}
