// spool/prometheus: a Spool's metrics as prom-client gauges, counters and histograms. This is
// the one module that imports prom-client (an optional peer): the main entry never loads it.
// Gauges read the store at scrape time (one read per scrape shared by all of them); counters
// report this process's meters; histograms are observed as each job starts and settles.
import { Counter, Gauge, Histogram, type Registry, register } from "prom-client";
import { SpoolError, show } from "./errors.js";
import type { QueueMeter } from "./metrics/instruments.js";
import { metricQueues, type QueueMetrics, queueMetrics, readAll } from "./metrics/snapshot.js";
import type { Spool } from "./spool.js";

export interface CollectOptions {
  /** Where the metrics are registered. @default prom-client's global registry */
  registry?: Registry;
  /** Put before every metric name. @default "spool_" */
  prefix?: string;
}

/** Seconds: from a millisecond to an hour, for both waits and runs. */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

const COUNTERS: readonly [keyof QueueMeter & string, string, string][] = [
  ["added", "jobs_added_total", "Jobs this process added"],
  ["completed", "jobs_completed_total", "Jobs this process completed"],
  ["failed", "jobs_failed_total", "Failed attempts in this process (retried or dead)"],
  ["retried", "jobs_retried_total", "Failed attempts that went back to pending for a retry"],
  ["dead", "jobs_dead_total", "Failed attempts that made the job dead"],
  ["leaseLost", "lease_lost_total", "Completions, failures and renewals refused: the lease was lost"],
];

/**
 * Registers the Spool's metrics with prom-client; returns a function that removes them again.
 * @example collectMetrics(spool); // then serve register.metrics() at /metrics
 */
export function collectMetrics(spool: Spool, options?: CollectOptions): () => void {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `collectMetrics options must be an object, got ${show(options)}`,
    );
  }
  const prefix = options?.prefix === undefined ? "spool_" : options.prefix;
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new SpoolError("INVALID_ARGUMENT", `prefix must be a Prometheus name prefix, got ${show(prefix)}`);
  }
  const registry = options?.registry ?? register;
  const { ctx } = spool;
  const registers = [registry];

  // One store read per scrape, shared by every gauge that prom-client collects at once.
  let reading: Promise<Map<string, QueueMetrics>> | null = null;
  const read = () => {
    reading ??= (async () => {
      const out = new Map<string, QueueMetrics>();
      if (ctx.isClosed) return out;
      const names = await metricQueues(ctx);
      const read = await readAll(names, (name) => queueMetrics(ctx, name));
      for (const [i, name] of names.entries()) out.set(name, read[i] as QueueMetrics);
      return out;
    })().finally(() => {
      reading = null;
    });
    return reading;
  };

  // Every name is checked free first: a clash registers nothing (prom-client would have thrown
  // halfway, leaving the metrics made before it reading the store on every scrape).
  const names: string[] = [];
  const name = (suffix: string) => {
    names.push(prefix + suffix);
    return prefix + suffix;
  };
  const taken = [
    "jobs",
    "queue_paused",
    "oldest_pending_age_seconds",
    ...COUNTERS.map(([, suffix]) => suffix),
    "job_wait_seconds",
    "job_run_seconds",
  ].filter((suffix) => registry.getSingleMetric(prefix + suffix) !== undefined);
  if (taken.length > 0) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `collectMetrics: the registry already has ${taken.map((s) => show(prefix + s)).join(", ")}: remove them first, or give another prefix`,
    );
  }

  new Gauge({
    name: name("jobs"),
    help: "Jobs in the store by queue and state",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      for (const [queue, size] of await read()) {
        for (const [state, n] of Object.entries(size)) {
          if (state === "total" || typeof n !== "number" || state === "oldestPendingMs") continue;
          this.set({ queue, state }, n);
        }
      }
    },
  });
  new Gauge({
    name: name("queue_paused"),
    help: "1 when the queue is paused, else 0",
    labelNames: ["queue"],
    registers,
    async collect() {
      this.reset();
      for (const [queue, size] of await read()) this.set({ queue }, size.paused ? 1 : 0);
    },
  });
  new Gauge({
    name: name("oldest_pending_age_seconds"),
    help: "Age of the oldest job ready to run (0 when none is)",
    labelNames: ["queue"],
    registers,
    async collect() {
      this.reset();
      for (const [queue, size] of await read()) this.set({ queue }, (size.oldestPendingMs ?? 0) / 1000);
    },
  });
  for (const [field, suffix, help] of COUNTERS) {
    new Counter({
      name: name(suffix),
      help: `${help} since its Spool opened`,
      labelNames: ["queue"],
      registers,
      collect() {
        this.reset();
        for (const meter of ctx.instruments.meters.values()) {
          if (meter.used) this.inc({ queue: meter.queue }, meter[field] as number); // not a bare handle
        }
      },
    });
  }
  const wait = new Histogram({
    name: name("job_wait_seconds"),
    help: "From when a job was due to when a worker of this process started it",
    labelNames: ["queue"],
    buckets: BUCKETS,
    registers,
  });
  const run = new Histogram({
    name: name("job_run_seconds"),
    help: "How long handlers of this process ran",
    labelNames: ["queue"],
    buckets: BUCKETS,
    registers,
  });
  const unobserve = ctx.instruments.observe({
    wait: (queue, ms) => wait.observe({ queue }, ms / 1000),
    run: (queue, ms) => run.observe({ queue }, ms / 1000),
  });
  return () => {
    unobserve();
    for (const n of names) registry.removeSingleMetric(n);
  };
}
