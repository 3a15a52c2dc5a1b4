/* What the page shows right now: the route's view and the last overview, shared by the modules. */
import { JOB_STATES } from "../../../types.js";
import type { JobState, Overview, QueueSize } from "./wire.js";

export { JOB_STATES };

export function isJobState(value: string | undefined): value is JobState {
  return (JOB_STATES as readonly (string | undefined)[]).includes(value);
}

export interface View {
  /** The queue whose jobs are browsed; null hides the browser. */
  queue: string | null;
  state: JobState;
  /** The job in the detail drawer; null closes it. */
  jobId: number | null;
  /** The `after` cursor of each page visited, so "Previous" can go back; the last is shown. */
  cursors: number[];
  /** The cursor of the next page, null on the last one. */
  next: number | null;
  /** The queue's counts when its list was loaded (JSON): a change means the list may be stale. */
  loadedCount: string | null;
}

export const view: View = {
  queue: null,
  state: "pending",
  jobId: null,
  cursors: [0],
  next: null,
  loadedCount: null,
};

/** The last overview the server sent; null until the first arrives. */
export const latest: { overview: Overview | null } = { overview: null };

/** The counts of queue `name` in the last overview. */
export function sizeOf(name: string | null): QueueSize | null {
  return latest.overview?.queues.find((q) => q.name === name)?.size ?? null;
}
