/*
 * The dashboard's view of the stored cron schedules (`GET api/schedules`): what the page's
 * schedule table shows, times as ms since the epoch. Read through the public Spool API; looking
 * fires nothing (the dashboard runs no scheduler).
 */
import type { Spool } from "../spool.js";

/** One row of `GET api/schedules`. */
export interface ScheduleRow {
  name: string;
  cron: string;
  tz: string;
  queue: string;
  catchUp: string;
  /** ms since the epoch of the next fire not yet enqueued. */
  next: number;
  /** ms since the epoch of the latest fire enqueued, or null. */
  last: number | null;
}

export async function listSchedules(spool: Spool): Promise<{ schedules: ScheduleRow[] }> {
  const schedules = (await spool.schedules()).map((s) => ({
    name: s.name,
    cron: s.cron,
    tz: s.tz,
    queue: s.queue,
    catchUp: s.catchUp,
    next: s.next.getTime(),
    last: s.last === null ? null : s.last.getTime(),
  }));
  return { schedules };
}
