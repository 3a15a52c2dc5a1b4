// The highest id among a queue's jobs of some states: bisection on the ids, one read each.
import type { Queue } from "../queue.js";
import type { JobState } from "../types.js";

/** The highest id of the queue's jobs in `states`, or 0 when it has none (about 53 reads). */
export async function highestId(queue: Queue<unknown>, states: readonly JobState[]): Promise<number> {
  const anyAbove = async (after: number) =>
    (await queue.browsePreviews(states, { after, limit: 1 }, 0)).length > 0;
  if (!(await anyAbove(0))) return 0;
  // Invariant: some id is above `low`, none is above `high`.
  let low = 0;
  let high = Number.MAX_SAFE_INTEGER;
  while (high - low > 1) {
    const mid = Math.floor(low / 2 + high / 2);
    if (await anyAbove(mid)) low = mid;
    else high = mid;
  }
  return high;
}
