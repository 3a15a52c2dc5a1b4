/*
 * Throughput from the outside. The dashboard reads through the public API only, which has no
 * "jobs completed per second" figure, so this samples every queue's counts once a second and
 * keeps the deltas: completed/s is the growth of the completed count, failed/s the growth of
 * the dead count. What that cannot see, by construction:
 * - completed jobs removed before the next sample (retention 0, or a purge in the same second)
 *   never show up, and a purge can hide completions of that second (a delta is never negative);
 * - a failed attempt that will be retried goes back to pending, so it is not a "failure" here.
 * Sampling runs only while someone is looking: it starts on a request and stops after a minute
 * without one, so a mounted dashboard costs nothing when idle.
 */
import { SpoolError } from "../errors.js";
import type { Spool } from "../spool.js";
import { sizeOf } from "./queues.js";

/** One interval: how many jobs completed and died per queue, between t − dt and t. */
interface Sample {
  t: number;
  dt: number;
  perQueue: Map<string, { completed: number; failed: number }>;
}

/** What the chart draws: rates per second at time t (ms since the epoch). */
export interface ThroughputPoint {
  t: number;
  completed: number;
  failed: number;
}

export interface ThroughputSeries {
  intervalMs: number;
  windowMs: number;
  points: ThroughputPoint[];
  /** Jobs counted over the whole window (exact, where the rates are per-interval averages). */
  totals: { completed: number; failed: number };
}

export interface SamplerOptions {
  /** Time between samples. @default 1000 */
  intervalMs?: number;
  /** How far back the chart reaches. @default 300_000 (5 minutes) */
  windowMs?: number;
  /** Stop sampling after this long without a request. @default 60_000 */
  idleMs?: number;
}

export class ThroughputSampler {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly idleMs: number;
  private readonly spool: Spool;
  /** Oldest first; trimmed to the window, so it holds at most windowMs / intervalMs entries. */
  private readonly samples: Sample[] = [];
  private baseline = new Map<string, { completed: number; dead: number }>();
  private baselineAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastTouch = 0;
  private stopped = false;

  constructor(spool: Spool, options: SamplerOptions = {}) {
    this.spool = spool;
    this.intervalMs = options.intervalMs ?? 1000;
    this.windowMs = options.windowMs ?? 300_000;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Someone is looking: make sure sampling runs. */
  touch(): void {
    this.lastTouch = Date.now();
    if (this.timer !== null || this.stopped) return;
    // A fresh start has no baseline: the first sample after a pause only sets one.
    this.baseline = new Map();
    this.baselineAt = 0;
    this.schedule(0);
  }

  /** For good (the Spool or the server is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Rates per second over the window, for every queue together or for one. */
  series(queue: string | null): ThroughputSeries {
    const from = Date.now() - this.windowMs;
    const points: ThroughputPoint[] = [];
    const totals = { completed: 0, failed: 0 };
    for (const s of this.samples) {
      if (s.t < from) continue;
      let completed = 0;
      let failed = 0;
      for (const [name, d] of s.perQueue) {
        if (queue !== null && name !== queue) continue;
        completed += d.completed;
        failed += d.failed;
      }
      totals.completed += completed;
      totals.failed += failed;
      const seconds = s.dt / 1000;
      points.push({ t: s.t, completed: completed / seconds, failed: failed / seconds });
    }
    return { intervalMs: this.intervalMs, windowMs: this.windowMs, points, totals };
  }

  /** Completed and failed per second for one queue, averaged over the last `ms`. */
  recentRate(queue: string, ms = 60_000): { completed: number; failed: number } {
    const from = Date.now() - ms;
    let completed = 0;
    let failed = 0;
    let seconds = 0;
    for (const s of this.samples) {
      if (s.t < from) continue;
      seconds += s.dt / 1000;
      const d = s.perQueue.get(queue);
      if (d !== undefined) {
        completed += d.completed;
        failed += d.failed;
      }
    }
    return seconds === 0
      ? { completed: 0, failed: 0 }
      : { completed: completed / seconds, failed: failed / seconds };
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => void this.tick(), delay);
    // Never the reason a process stays alive.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.sample();
    } catch (error) {
      if (error instanceof SpoolError && error.code === "CLOSED") {
        this.stop();
        return;
      }
      // A busy or briefly unreachable store costs one sample; the next tick tries again.
    }
    if (this.stopped) return;
    if (Date.now() - this.lastTouch > this.idleMs) {
      this.timer = null;
      return;
    }
    this.schedule(this.intervalMs);
  }

  private async sample(): Promise<void> {
    const names = await this.spool.queues();
    const sizes = await Promise.all(names.map((name) => sizeOf(this.spool, name)));
    const now = Date.now();
    const next = new Map<string, { completed: number; dead: number }>();
    const perQueue = new Map<string, { completed: number; failed: number }>();
    names.forEach((name, i) => {
      const size = sizes[i];
      if (size === undefined) return;
      next.set(name, { completed: size.completed, dead: size.dead });
      const before = this.baseline.get(name);
      if (before === undefined) return;
      perQueue.set(name, {
        completed: Math.max(0, size.completed - before.completed),
        failed: Math.max(0, size.dead - before.dead),
      });
    });
    if (this.baselineAt > 0 && now > this.baselineAt) {
      this.samples.push({ t: now, dt: now - this.baselineAt, perQueue });
    }
    this.baseline = next;
    this.baselineAt = now;
    while (this.samples.length > 0 && (this.samples[0]?.t ?? now) < now - this.windowMs) this.samples.shift();
  }
}
