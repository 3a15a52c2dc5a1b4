/*
 * Whole jobs of a queue, in id order across states, read so that memory stays bounded by the
 * largest job, whatever a page holds (a page of 10 MB jobs is 10 GB): a page is read as
 * previews first (ids and sizes, no payloads), then whole rows in runs of at most CHUNK_BYTES.
 * `spool export` and `spool list --json` both write from these, one job per write.
 */
import type { StoredJob } from "../backend.js";
import type { Queue } from "../index.js";
import type { JobState } from "../types.js";
import { pagePreviews } from "./jobs.js";

const PAGE = 1000;
/** A "preview" as long as any stored value can be (1 GiB in both stores): the whole row. */
const WHOLE = 2 ** 31 - 1;
/** Payload and result bytes read at once; a job larger than this is read alone. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** Splits a page of previews into runs of consecutive jobs of at most CHUNK_BYTES each. */
function chunks(page: readonly StoredJob[]): StoredJob[][] {
  const runs: StoredJob[][] = [];
  let run: StoredJob[] = [];
  let bytes = 0;
  for (const job of page) {
    const size = (job.sizes?.payload ?? 0) + (job.sizes?.result ?? 0) + (job.sizes?.lastError ?? 0);
    if (run.length > 0 && bytes + size > CHUNK_BYTES) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(job);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * The whole rows of a run of previews, read per state, just as many as the run holds of it, so
 * no payload is read that the run does not keep (reading `count` rows of every state read up
 * to five runs' worth and dropped the rest). Returns the longest prefix of the run found as it
 * was: a job removed or moved to another state meanwhile ends it, and the caller reads on from
 * there afresh, so such a job is found where it is now, neither lost nor written twice.
 */
async function wholeRun(
  queue: Queue<unknown>,
  run: readonly StoredJob[],
  after: number,
): Promise<StoredJob[]> {
  const perState = new Map<JobState, number>();
  for (const job of run) perState.set(job.state, (perState.get(job.state) ?? 0) + 1);
  const found = new Map<number, StoredJob>();
  for (const [state, limit] of perState) {
    for (const job of await queue.listPreviews({ state, limit, after }, WHOLE)) found.set(job.id, job);
  }
  const rows: StoredJob[] = [];
  for (const { id } of run) {
    const job = found.get(id);
    if (job === undefined) break;
    rows.push(job);
  }
  return rows;
}

/** The next `limit` (default: every) whole jobs with id > `after` among `states`, undecoded. */
export async function* wholeJobs(
  queue: Queue<unknown>,
  states: readonly JobState[],
  after: number,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<StoredJob> {
  let last = after;
  let left = limit;
  while (left > 0) {
    const page = await pagePreviews(queue, states, last, Math.min(PAGE, left), 0);
    if (page.length === 0) return;
    for (const run of chunks(page)) {
      const jobs = await wholeRun(queue, run, last);
      for (const job of jobs) yield job;
      left -= jobs.length;
      last = jobs[jobs.length - 1]?.id ?? last;
      // Jobs removed or moved meanwhile: the rest of this page is stale, read the next afresh.
      if (jobs.length < run.length) break;
    }
  }
}
