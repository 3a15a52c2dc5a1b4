/*
 * Whole jobs of a queue, in id order across states, read so that memory stays bounded by the
 * largest job, whatever a page holds (a page of 10 MB jobs is 10 GB): a page is read as
 * previews first (ids and sizes, no payloads), then whole rows in runs of at most CHUNK_BYTES,
 * each run bounded by the ids its previews had.
 * `spool export` and `spool list --json` both write from these, one job per write. A waiting job
 * comes with `dependsOn` (the ids it depends on, all of them), read for it alone: what it waits
 * for is part of what it is (an import refuses it rather than run it at once).
 */
import type { StoredJob } from "../backend.js";
import type { Queue } from "../index.js";
import type { JobState } from "../types.js";

const PAGE = 1000;
/** A "preview" as long as any stored value can be (1 GiB in both stores): the whole row. */
const WHOLE = 2 ** 31 - 1;
/** Payload and result bytes read at once; a job larger than this is read alone. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** Splits a page of previews into runs of consecutive jobs of at most CHUNK_BYTES each. */
function chunks(page: readonly StoredJob[]): number[] {
  const counts: number[] = [];
  let count = 0;
  let bytes = 0;
  for (const job of page) {
    const size = (job.sizes?.payload ?? 0) + (job.sizes?.result ?? 0) + (job.sizes?.lastError ?? 0);
    if (count > 0 && bytes + size > CHUNK_BYTES) {
      counts.push(count);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += size;
  }
  if (count > 0) counts.push(count);
  return counts;
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
    // Each read is one statement over every state: a job changing state meanwhile is read once.
    const page = await queue.browsePreviews(states, { after: last, limit: Math.min(PAGE, left) }, 0);
    if (page.length === 0) return;
    let start = 0;
    for (const count of chunks(page)) {
      const through = (page[start + count - 1] as StoredJob).id;
      start += count;
      const jobs = await queue.browsePreviews(states, { after: last, through, limit: count }, WHOLE);
      for (const job of jobs) {
        if (job.state === "waiting") {
          job.dependsOn = (await queue.ctx.backend.dependencies(queue.name, job.id)).map((d) => d.id);
        }
        yield job;
      }
      left -= jobs.length;
      const lastRead = jobs[jobs.length - 1]?.id ?? last;
      // A run that came back full but short of `through` met jobs the page did not list (they
      // entered the states meanwhile): read the rest afresh from the last job written.
      if (jobs.length === count && lastRead < through) {
        last = lastRead;
        break;
      }
      // Otherwise every job of the run's ids was read; those missing were removed meanwhile.
      last = through;
      if (left <= 0) return;
    }
  }
}
