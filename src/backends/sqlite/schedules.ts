// Cron schedules on SQLite: each ScheduleStore transition inside the writer's IMMEDIATE
// transaction, on the backend's (injectable) clock. The fire's CAS and its jobs share one
// transaction, so the jobs commit exactly when next_at moves, and never otherwise.
import type { NewJob, NewSchedule, ScheduleStore, StoredSchedule } from "../../backend.js";
import { insertJobs } from "./enqueue.js";
import * as Q from "./schedule-queries.js";
import type { Store } from "./store.js";

export class SqliteSchedules implements ScheduleStore {
  constructor(private readonly store: Store) {}

  async now(): Promise<number> {
    return this.store.clock();
  }

  upsert(s: NewSchedule): Promise<void> {
    return this.store.write(() => {
      this.store.sql(Q.SCHEDULE_UPSERT).run({
        name: s.name,
        queue: s.queue,
        cron: s.cron,
        tz: s.tz,
        catch_up: s.catchUp,
        payload: s.payload,
        format: s.format,
        options: s.options,
        next_at: s.nextAt,
        now: this.store.clock(),
      });
    });
  }

  remove(name: string): Promise<boolean> {
    return this.store.write(() => this.store.sql(Q.SCHEDULE_DELETE).run({ name }).changes > 0);
  }

  list(): Promise<{ now: number; schedules: StoredSchedule[] }> {
    return this.store.read(() => ({
      now: this.store.clock(),
      schedules: this.store.sql(Q.SCHEDULE_LIST).all() as StoredSchedule[],
    }));
  }

  fire(
    name: string,
    expectedNextAt: number,
    newNextAt: number,
    lastAt: number | null,
    queue: string,
    jobs: NewJob[],
  ): Promise<number[] | null> {
    return this.store.write(() => {
      const advance = this.store.sql(Q.SCHEDULE_ADVANCE);
      const moved = advance.run({ name, expected: expectedNextAt, next_at: newNextAt, last_at: lastAt });
      if (moved.changes === 0) return null;
      const inserted: boolean[] = [];
      const ids = insertJobs(this.store, queue, jobs, this.store.clock(), undefined, inserted) ?? [];
      return ids.filter((_, i) => inserted[i]);
    });
  }
}
