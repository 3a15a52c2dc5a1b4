/*
 * Cron schedules on PostgreSQL. The fire's CAS and its jobs run in one transaction on one
 * connection: the jobs commit exactly when next_at moves. Under READ COMMITTED a second fire of
 * the same next_at waits on the row lock the first one's UPDATE holds, then re-reads the row,
 * finds next_at moved and updates nothing: it inserts nothing whatever the hosts' clocks say.
 */
import type { NewJob, NewSchedule, PayloadFormat, ScheduleStore, StoredSchedule } from "../../backend.js";
import { show } from "../../errors.js";
import { enqueueValues } from "./enqueue.js";
import type { Connections, Row } from "./pool.js";
import { asBuffer, num, numOrNull } from "./rows.js";

export class PostgresSchedules implements ScheduleStore {
  constructor(
    private readonly db: Connections,
    private readonly channel: string,
  ) {}

  async now(): Promise<number> {
    return num((await this.db.run("SCHEDULE_NOW", [], "reading the clock"))[0]?.now);
  }

  async upsert(s: NewSchedule): Promise<void> {
    const values = [
      s.name,
      s.queue,
      s.cron,
      s.tz,
      s.catchUp,
      asBuffer(s.payload),
      s.format,
      s.options,
      s.nextAt,
    ];
    await this.db.run("SCHEDULE_UPSERT", values, `storing the schedule ${show(s.name)}`);
  }

  async remove(name: string): Promise<boolean> {
    const rows = await this.db.run("SCHEDULE_DELETE", [name], `removing the schedule ${show(name)}`);
    return rows.length > 0;
  }

  async list(): Promise<{ now: number; schedules: StoredSchedule[] }> {
    const rows = await this.db.run("SCHEDULE_LIST", [], "listing the schedules");
    const now = rows.length > 0 ? num(rows[0]?.now) : await this.now();
    return { now, schedules: rows.map(toSchedule) };
  }

  fire(
    name: string,
    expectedNextAt: number,
    newNextAt: number,
    lastAt: number | null,
    queue: string,
    jobs: NewJob[],
  ): Promise<number[] | null> {
    return this.db.transaction(`firing the schedule ${show(name)}`, async (run) => {
      const moved = await run("SCHEDULE_ADVANCE", [name, expectedNextAt, newNextAt, lastAt]);
      if (moved.length === 0) return null;
      if (jobs.length === 0) return [];
      // A schedule whose jobs carry a group makes its queue grouped, as any grouped add does.
      const grouped = jobs.some((j) => j.group != null);
      if (grouped) await run("MARK_GROUPED", [queue]);
      const rows = await run(
        "ENQUEUE",
        enqueueValues(queue, this.channel, jobs, grouped, this.db.payloadEncoding),
      );
      return rows.filter((r) => r.inserted).map((r) => num(r.id));
    });
  }
}

function toSchedule(row: Row): StoredSchedule {
  return {
    name: String(row.name),
    queue: String(row.queue),
    cron: String(row.cron),
    tz: String(row.tz),
    catchUp: String(row.catch_up),
    payload: row.payload as Buffer,
    format: num(row.format) as PayloadFormat,
    options: String(row.options),
    nextAt: num(row.next_at),
    lastAt: numOrNull(row.last_at),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}
