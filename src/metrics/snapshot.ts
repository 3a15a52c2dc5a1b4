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
  for (const name of ctx.instruments.meters.keys()) names.add(name);
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
  for (const name of await metricQueues(ctx)) queues[name] = await queueMetrics(ctx, name);
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
