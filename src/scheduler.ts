// The scheduler: one loop per Spool that enqueues the due fires of the stored schedules. Every
// process running a worker (or `spool.runScheduler()`) runs one; they need not agree on
// anything, since each fire is one compare-and-set of the schedule's next_at in the same store
// transaction as its jobs (ScheduleStore.fire): of all the processes that read the same next_at,
// exactly one moves it and adds the jobs, and the others change nothing.
import type { Cron } from "croner";
import type { StoredSchedule } from "./backend.js";
import type { SpoolContext, Stoppable } from "./context.js";
import { type CatchUp, decideFires, parseCron } from "./cron.js";
import { logError } from "./metrics/logger.js";
import { firedJobs } from "./schedule.js";

/**
 * The longest sleep between two reads of the schedules: a schedule stored or changed by another
 * process is seen within it (this process's own wake the loop at once).
 */
export const SCHEDULER_POLL_MS = 1_000;
/**
 * The most payload bytes one fire adds: a catch-up of many missed fires of a large payload
 * would otherwise be one transaction of up to 1000 copies of it.
 */
export const MAX_FIRE_BYTES = 16 * 1024 * 1024;

const schedulers = new WeakMap<SpoolContext, Scheduler>();

/**
 * The Spool's scheduler, started if it was not running. One started for a worker runs until
 * `spool.close()`; otherwise until its last `runScheduler()` handle is stopped.
 */
export function startScheduler(ctx: SpoolContext, forWorker = true): Scheduler {
  let scheduler = schedulers.get(ctx);
  if (scheduler === undefined || scheduler.stopped) {
    scheduler = new Scheduler(ctx);
    schedulers.set(ctx, scheduler);
  }
  if (forWorker) scheduler.forWorkers = true;
  return scheduler;
}

/** Wakes the Spool's scheduler, if it runs, to read the schedules again at once. */
export function pokeScheduler(ctx: SpoolContext): void {
  schedulers.get(ctx)?.poke();
}

export class Scheduler implements Stoppable {
  private halted = false;
  private wake: (() => void) | null = null;
  private woken = false;
  private readonly loop: Promise<void>;
  /** Parsed crons by cron and zone: a pass parses only what it has not seen. */
  private readonly crons = new Map<string, Cron>();
  /** Schedules (name and cron) whose unreadable cron was logged: once each, not every pass. */
  private readonly unreadable = new Set<string>();
  /** Schedules whose fire is failing, with the error last logged: logged again only when it changes. */
  private readonly failing = new Map<string, string>();
  /** @internal for tests: passes finished so far. */
  passes = 0;
  /** A worker started it: it runs until close, whatever runScheduler's handles do. */
  forWorkers = false;
  /** runScheduler() handles not yet stopped. */
  private handles = 0;

  constructor(private readonly ctx: SpoolContext) {
    ctx.stoppables.add(this);
    this.loop = this.run();
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** Reads the schedules again at once (one of them changed in this process). */
  poke(): void {
    this.woken = true;
    this.wake?.();
  }

  /** A runScheduler() handle: its stop() ends the loop unless a worker or another handle needs it. */
  hold(): { stop(): Promise<void> } {
    this.handles++;
    let held = true;
    return {
      stop: async () => {
        if (held) {
          held = false;
          this.handles--;
        }
        if (this.handles === 0 && !this.forWorkers) await this.stop();
      },
    };
  }

  /** Stops the loop; resolves once a fire in flight has committed (or failed). */
  async stop(): Promise<void> {
    this.halted = true;
    this.ctx.stoppables.delete(this);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.halted) {
      let wait = SCHEDULER_POLL_MS;
      try {
        wait = await this.pass();
      } catch (error) {
        // A busy or unreachable store: logged, and tried again after the usual wait.
        if (this.halted || this.ctx.isClosed) return;
        const msg = "spool scheduler: reading or firing the schedules failed; retrying";
        logError(this.ctx.instruments.logger, "warn", msg, error, {});
      }
      this.passes++;
      await this.sleep(wait);
    }
  }

  /** Fires what is due; returns how long to sleep before the next pass (ms). */
  private async pass(): Promise<number> {
    const { now, schedules } = await this.ctx.backend.schedules.list();
    let wait = SCHEDULER_POLL_MS;
    for (const s of schedules) {
      if (this.halted) return 0;
      if (s.nextAt > now) {
        wait = Math.min(wait, s.nextAt - now);
        continue;
      }
      // After a fire, read again at once: the next pass sees the moved next_at. A schedule
      // whose fire fails is logged and tried again next pass; the others still fire.
      try {
        if (await this.fire(s, now)) wait = 0;
        this.failing.delete(s.name);
      } catch (error) {
        if (this.halted || this.ctx.isClosed) return 0;
        // Logged when it starts failing, or fails otherwise: not on every pass while it stays so.
        const text = String((error as { message?: unknown } | null)?.message ?? error);
        if (this.failing.get(s.name) === text) continue;
        this.failing.set(s.name, text);
        const msg = `spool scheduler: firing the schedule ${s.name} failed; the others still fire, it is retried`;
        logError(this.ctx.instruments.logger, "warn", msg, error, { queue: s.queue });
      }
    }
    return wait;
  }

  /** One fire transition for a due schedule; false when it could not be attempted. */
  private async fire(s: StoredSchedule, now: number): Promise<boolean> {
    let cron: Cron;
    try {
      cron = this.cron(s.cron, s.tz);
    } catch (error) {
      // A schedule this version cannot read (stored by another one): the others still fire.
      const seen = `${s.name} ${s.tz} ${s.cron}`;
      if (this.unreadable.has(seen)) return false;
      this.unreadable.add(seen);
      const msg = `spool scheduler: cannot read the schedule ${s.name}; the others still fire`;
      logError(this.ctx.instruments.logger, "error", msg, error, { queue: s.queue });
      return false;
    }
    const decided = decideFires(cron, s.nextAt, now, s.catchUp as CatchUp);
    const { next } = decided;
    // Catch-up adds every missed fire in one transaction: bounded in bytes as well as in count,
    // keeping the latest fires (older missed ones are skipped, as past the count cap).
    const most = Math.max(1, Math.floor(MAX_FIRE_BYTES / Math.max(1, s.payload.byteLength)));
    const fires = decided.fires.length > most ? decided.fires.slice(-most) : decided.fires;
    const ids = await this.ctx.backend.schedules.fire(
      s.name,
      s.nextAt,
      next,
      fires.length > 0 ? (fires[fires.length - 1] as number) : null,
      s.queue,
      firedJobs(s, fires),
    );
    if (ids !== null && ids.length > 0) {
      this.ctx.signal(s.queue);
      this.ctx.instruments.logger.debug(
        { schedule: s.name, queue: s.queue, jobs: ids },
        "spool scheduler: fired a schedule",
      );
    }
    return true;
  }

  private cron(cron: string, tz: string): Cron {
    const key = `${tz} ${cron}`;
    let parsed = this.crons.get(key);
    if (parsed === undefined) {
      if (this.crons.size >= 1_000) this.crons.clear();
      parsed = parseCron(cron, tz);
      this.crons.set(key, parsed);
    }
    return parsed;
  }

  /** Sleeps `ms`, or until poked or stopped; keeps no process alive (the timer is unref'd). */
  private sleep(ms: number): Promise<void> {
    if (this.woken || this.halted) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}
