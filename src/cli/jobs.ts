/* Browsing a queue across states: the public `list` pages one state at a time, by id. */
import type { StoredJob } from "../backend.js";
import type { Queue } from "../index.js";
import type { JobState } from "../types.js";

/**
 * The next `limit` jobs with id > `after` among `states`, in id order, with payloads and errors
 * cut to `previewBytes` by the store's query. Fetching `limit` of each state and keeping the
 * smallest ids is exact: no job of any state can fall between them.
 */
export async function pagePreviews(
  queue: Queue<unknown>,
  states: readonly JobState[],
  after: number,
  limit: number,
  previewBytes: number,
): Promise<StoredJob[]> {
  const jobs: StoredJob[] = [];
  for (const state of states) jobs.push(...(await queue.listPreviews({ state, limit, after }, previewBytes)));
  return states.length === 1 ? jobs : jobs.sort((a, b) => a.id - b.id).slice(0, limit);
}
