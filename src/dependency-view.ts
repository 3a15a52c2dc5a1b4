/*
 * A job's dependencies as the CLI and the dashboard show them: how many, how many completed,
 * and for the first few their queue and state. `Backend.dependencies` gives ids and done flags
 * (a done one is completed, even after retention deleted its row); a dependency may be in any
 * queue, so where each one is found costs a one-row read per queue tried: bounded by
 * `shown` × the queues tried and by MAX_LOOKUPS, whatever the job depends on.
 */
import type { Spool } from "./spool.js";
import { JOB_STATES, type JobState } from "./types.js";

/** One dependency as shown: its queue and state are null when it was not found (or not looked for). */
export interface DependencyShown {
  id: number;
  /** True once it completed (its result is kept for the dependent). */
  done: boolean;
  queue: string | null;
  state: JobState | null;
}

export interface DependenciesShown {
  /** How many the job depends on. */
  total: number;
  /** How many of them completed. */
  done: number;
  /** The first ones (by id), at most the `shown` asked for. */
  items: DependencyShown[];
}

/** One-row reads spent at most on finding the dependencies' queues. */
const MAX_LOOKUPS = 200;

/**
 * The dependencies of job `id` of `queue`: all counted, the first `shown` looked up (first in
 * `queue`, then in the other queues, in name order, until found or the budget is spent).
 */
export async function showDependencies(
  spool: Spool,
  queue: string,
  id: number,
  shown: number,
): Promise<DependenciesShown> {
  spool.ctx.assertOpen();
  const backend = spool.ctx.backend;
  const deps = await backend.dependencies(queue, id);
  const items: DependencyShown[] = deps
    .slice(0, shown)
    .map((d) => ({ id: d.id, done: d.done, queue: null, state: null }));
  let budget = MAX_LOOKUPS;
  // The queues to try, the last one a dependency was found in first: a job's dependencies are
  // mostly in one or two queues. Every queue's name is read only when one is not in `queue`.
  let order = [queue];
  let all = false;
  for (const item of items) {
    for (let i = 0; i < order.length && budget > 0; i++) {
      const name = order[i] as string;
      budget--;
      const range = { after: item.id - 1, through: item.id, limit: 1 };
      const [row] = await backend.browse(name, JOB_STATES, range, 0);
      if (row !== undefined) {
        item.queue = name;
        item.state = row.state;
        order = [name, ...order.filter((q) => q !== name)];
        break;
      }
      if (i === order.length - 1 && !all) {
        all = true;
        const names = (await backend.queues()).sort();
        order.push(...names.filter((q) => !order.includes(q)));
      }
    }
    // Not found: deleted since (a completed one by retention); a done one was completed.
    if (item.state === null && item.done) item.state = "completed";
  }
  return { total: deps.length, done: deps.filter((d) => d.done).length, items };
}
