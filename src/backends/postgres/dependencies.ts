/*
 * Job dependencies on PostgreSQL (AddOptions.dependsOn): migration 8, the statements of an add
 * with dependencies and of `dependencies()`. The design is the SQLite backend's (see
 * ../sqlite/dependencies.ts): a trigger on the dependency's own row moves its dependents, so
 * every way a job ends (completion, failure, lapsed last lease, ttl expiry, burial, removal)
 * moves them in the same transaction. The triggers' WHEN tests `dependents` first, NULL on
 * every job nobody depends on, so plain jobs pay one column test per state change.
 *
 * Row locks: an add locks the rows of the jobs it depends on (LOCK_DEPENDENCIES, in id order)
 * before it reads their state, so a completion cannot commit between that read and the link;
 * a completion that came first is seen (the lock waits for it, and READ COMMITTED reads the
 * row's latest version). A completion whose trigger finds a link waits for nothing more: the
 * link committed with the add that held the dependency's row.
 *
 * Trigger recursion: a dependent made dead by the death trigger fires the trigger again if it
 * has dependents of its own; the recursive CTE has already made all of those dead, so the
 * death trigger skips rows that were waiting (OLD.state = 'waiting': only propagation moves a
 * waiting job to dead), and a chain costs one statement, not one nested trigger per link.
 */

import type { NewJob, PayloadFormat, StoredDependency } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import type { Row, Values } from "./pool.js";
import type { QueryName } from "./queries.js";
import { num } from "./rows.js";

type Run = (name: QueryName, values: Values) => Promise<Row[]>;

/** Every id the batch depends on, ascending, once each (empty: the batch has none). */
function dependencyIds(jobs: readonly NewJob[]): number[] {
  const ids = new Set<number>();
  for (const job of jobs) for (const id of job.dependsOn ?? []) ids.add(id);
  return [...ids].sort((a, b) => a - b);
}

/**
 * Before inserting a batch with dependencies (inside its transaction): locks the rows it
 * depends on, and refuses with NOT_FOUND, before anything is written, when one is not a job.
 */
export async function lockDependencies(run: Run, jobs: readonly NewJob[]): Promise<void> {
  const wanted = dependencyIds(jobs);
  if (wanted.length === 0) return;
  const have = new Set((await run("LOCK_DEPENDENCIES", [wanted])).map((r) => num(r.id)));
  const missing = wanted.find((id) => !have.has(id));
  if (missing !== undefined) {
    throw new SpoolError("NOT_FOUND", `dependsOn names job ${missing}, which does not exist`);
  }
}

/**
 * After the insert: links each job that was inserted (not one a live key stood for) to its
 * dependencies, in one statement.
 */
export async function linkDependencies(
  run: Run,
  jobs: readonly NewJob[],
  ids: readonly number[],
  inserted: readonly boolean[],
): Promise<void> {
  const job: number[] = [];
  const dep: number[] = [];
  for (const [i, j] of jobs.entries()) {
    if (j.dependsOn == null || !inserted[i]) continue;
    for (const d of j.dependsOn) {
      job.push(ids[i] as number);
      dep.push(d);
    }
  }
  if (job.length > 0) await run("LINK_DEPENDENCIES", [job, dep]);
}

export function hasDependencies(jobs: readonly NewJob[]): boolean {
  return jobs.some((j) => j.dependsOn != null && j.dependsOn.length > 0);
}

/** DEPENDENCIES' rows as `Backend.dependencies` returns them. */
export function toDependencies(rows: Row[]): StoredDependency[] {
  return rows.map((row) => ({
    id: num(row.dep),
    done: row.done === true,
    result:
      row.done === true && row.result != null
        ? { bytes: row.result as Buffer, format: num(row.result_format ?? 0) as PayloadFormat }
        : null,
  }));
}
