/*
 * The Backend methods of the PostgreSQL backend that only read (get, list, counts, the schedule,
 * the settings): one autocommitted statement each, on any free connection of the pool.
 */
import type { BrowseRange, QueueSettings, StoredJob } from "../../backend.js";
import { show } from "../../errors.js";
import type { JobState, QueueSize } from "../../types.js";
import type { Connections } from "./pool.js";
import type { QueryName } from "./queries.js";
import { num, numOrNull, toPreviewJob, toSettings, toStoredJob } from "./rows.js";

export async function get(db: Connections, queue: string, id: number): Promise<StoredJob | null> {
  const row = (await db.run("GET", [queue, id], `reading job ${id} of ${show(queue)}`))[0];
  if (row === undefined) return null;
  const job = toStoredJob(row);
  if (Array.isArray(row.depends_on)) job.dependsOn = row.depends_on.map(num);
  return job;
}

/** One statement per state, so each uses its index; with `previewBytes`, its preview twin. */
const LISTS: Record<JobState, { full: QueryName; preview: QueryName }> = {
  waiting: { full: "LIST_STATE", preview: "LIST_STATE_PREVIEW" },
  pending: { full: "LIST_PENDING", preview: "LIST_PENDING_PREVIEW" },
  delayed: { full: "LIST_DELAYED", preview: "LIST_DELAYED_PREVIEW" },
  reserved: { full: "LIST_STATE", preview: "LIST_STATE_PREVIEW" },
  completed: { full: "LIST_STATE", preview: "LIST_STATE_PREVIEW" },
  dead: { full: "LIST_STATE", preview: "LIST_STATE_PREVIEW" },
};

export async function list(
  db: Connections,
  queue: string,
  state: JobState,
  limit: number,
  afterId: number,
  previewBytes?: number,
): Promise<StoredJob[]> {
  const doing = `listing ${state} jobs of ${show(queue)}`;
  const { full, preview } = LISTS[state];
  // LIST_STATE takes the stored state as $4; a preview's length is the last parameter.
  const values: unknown[] = full === "LIST_STATE" ? [queue, afterId, limit, state] : [queue, afterId, limit];
  if (previewBytes === undefined) return (await db.run(full, values, doing)).map(toStoredJob);
  return (await db.run(preview, [...values, previewBytes], doing)).map(toPreviewJob);
}

export async function browse(
  db: Connections,
  queue: string,
  states: readonly JobState[],
  range: BrowseRange,
  previewBytes?: number,
): Promise<StoredJob[]> {
  const doing = `listing ${states.join(", ")} jobs of ${show(queue)}`;
  const values: unknown[] = [queue, range.after, range.limit, states, range.through];
  if (previewBytes === undefined) return (await db.run("BROWSE", values, doing)).map(toStoredJob);
  return (await db.run("BROWSE_PREVIEW", [...values, previewBytes], doing)).map(toPreviewJob);
}

export async function counts(db: Connections, queue: string): Promise<QueueSize> {
  const row = (await db.run("COUNTS", [queue], `counting jobs of ${show(queue)}`))[0] ?? {};
  const size = {
    waiting: num(row.waiting ?? 0),
    pending: num(row.pending ?? 0),
    delayed: num(row.delayed ?? 0),
    reserved: num(row.reserved ?? 0),
    completed: num(row.completed ?? 0),
    dead: num(row.dead ?? 0),
  };
  const total = size.waiting + size.pending + size.delayed + size.reserved + size.completed + size.dead;
  return { ...size, total, paused: row.paused === true };
}

export async function queues(db: Connections): Promise<string[]> {
  return (await db.run("QUEUES", [], "listing queues")).map((r) => String(r.queue));
}

export async function nextDueIn(db: Connections, queue: string): Promise<number | null> {
  return numOrNull((await db.run("NEXT_DUE_IN", [queue], `reading the schedule of ${show(queue)}`))[0]?.ms);
}

export async function oldestPendingAge(db: Connections, queue: string): Promise<number | null> {
  const doing = `reading the backlog of ${show(queue)}`;
  return numOrNull((await db.run("OLDEST_PENDING_AGE", [queue], doing))[0]?.ms);
}

export async function backlog(db: Connections, queue: string): Promise<number> {
  return num((await db.run("BACKLOG", [queue], `counting items of ${show(queue)}`))[0]?.n ?? 0);
}

export async function readSettings(db: Connections, queue: string): Promise<QueueSettings | null> {
  const row = (await db.run("READ_SETTINGS", [queue], `reading the settings of ${show(queue)}`))[0];
  return row === undefined ? null : toSettings(row);
}
