// Job dependencies on SQLite (AddOptions.dependsOn): the statements of an add with dependencies
// and of `dependencies()`. What moves a waiting job afterwards is the triggers of migration 9
// (dependencies-schema.ts).
import type { PayloadFormat, StoredDependency } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import { DEPENDENCY_TRIGGERS, HAS_DEPENDENCY_TRIGGERS } from "./dependencies-schema.js";
import type { Store } from "./store.js";

/** Where the statements run: Spool's own store, or the application's connection (addSync). */
type Statements = Pick<Store, "sql" | "pluckSql">;

/**
 * The dependencies named by an add, as they stand (queue '' is the id placeholder: no job).
 * Only jobs older than the one being linked: a job cannot depend on itself or on a later one.
 */
const FIND_DEPENDENCIES = `
  SELECT j.id, j.state, j.result, j.result_format FROM json_each(:ids) AS e
    JOIN spool_jobs AS j ON j.id = e.value AND j.queue <> '' AND j.id < :job`;

const MARK_DEPENDENT = "UPDATE spool_jobs SET dependents = 1 WHERE id = :id AND dependents IS NULL";

const LINK = "INSERT INTO spool_deps (job, dep, done) VALUES (:job, :dep, :done)";

/** A dependency completed before the add: its result, kept once for every link (see migration 9). */
const KEEP_RESULT = `
  INSERT OR IGNORE INTO spool_dep_results (dep, result, result_format) VALUES (:dep, :result, :format)`;

/**
 * The new job's state once linked: waiting on what is left, dead when a dependency is dead
 * already, pending (as inserted) when every one completed before the add.
 */
const SETTLE_NEW = `
  UPDATE spool_jobs SET deps_left = :left,
         state = CASE WHEN :dead THEN 'dead' WHEN :left > 0 THEN 'waiting' ELSE state END,
         last_error = CASE WHEN :dead THEN 'dependency failed' ELSE last_error END,
         finished_at = CASE WHEN :dead THEN :now ELSE finished_at END,
         expires_at = CASE WHEN :dead THEN NULL ELSE expires_at END
   WHERE id = :job`;

export const DEPENDENCIES = `
  SELECT d.dep, d.done, r.result, r.result_format FROM spool_deps AS d
    LEFT JOIN spool_dep_results AS r ON r.dep = d.dep AND d.done = 1
   WHERE d.job = (SELECT id FROM spool_jobs WHERE queue = :queue AND id = :id) ORDER BY d.dep`;

/** The queues in which the completion of job :id (just now, in this transaction) released jobs. */
export const RELEASED_QUEUES = `
  SELECT DISTINCT j.queue FROM spool_deps AS d JOIN spool_jobs AS j ON j.id = d.job
   WHERE d.dep = :id AND j.state = 'pending' AND j.deps_left = 0`;

/** The dependency ids of one job, for `get`. */
export const DEPENDENCY_IDS = "SELECT dep FROM spool_deps WHERE job = :id ORDER BY dep";

interface FoundDependency {
  id: number;
  state: string;
  result: Uint8Array | null;
  result_format: PayloadFormat | null;
}

/**
 * Creates the triggers that move dependents (dependencies-schema.ts) unless the store has them,
 * inside the caller's write transaction: they commit with the first link, or roll back with it.
 * Another process's prepared statements see the new schema at their next step (SQLite prepares
 * them again), so a completion committed after this one fires them wherever it runs.
 */
export function ensureDependencyTriggers(store: Statements): void {
  if (store.pluckSql(HAS_DEPENDENCY_TRIGGERS).get() === 1) return;
  for (const trigger of DEPENDENCY_TRIGGERS) store.sql(trigger).run();
}

/**
 * Links the job `id`, just inserted pending, to the jobs it depends on (inside the insert's
 * transaction): NOT_FOUND, undoing the whole add, when one is not a job of the store.
 */
export function linkDependencies(
  store: Statements,
  id: number,
  dependsOn: readonly number[],
  now: number,
): void {
  const found = store
    .sql(FIND_DEPENDENCIES)
    .all({ ids: JSON.stringify(dependsOn), job: id }) as FoundDependency[];
  if (found.length < dependsOn.length) {
    const have = new Set(found.map((d) => d.id));
    const missing = dependsOn.find((dep) => !have.has(dep));
    throw new SpoolError("NOT_FOUND", `dependsOn names job ${missing}, which does not exist`);
  }
  const mark = store.sql(MARK_DEPENDENT);
  const link = store.sql(LINK);
  const keep = store.sql(KEEP_RESULT);
  let left = 0;
  let dead = false;
  for (const dep of found) {
    const done = dep.state === "completed";
    if (!done) {
      left++;
      mark.run({ id: dep.id });
    }
    if (dep.state === "dead") dead = true;
    link.run({ job: id, dep: dep.id, done: done ? 1 : 0 });
    if (done) keep.run({ dep: dep.id, result: dep.result, format: dep.result_format });
  }
  store.sql(SETTLE_NEW).run({ job: id, left, dead: dead ? 1 : 0, now });
}

interface DependencyRow {
  dep: number;
  done: number;
  result: Uint8Array | null;
  result_format: PayloadFormat | null;
}

/** A job's dependencies as `Backend.dependencies` returns them. */
export function readDependencies(store: Statements, queue: string, id: number): StoredDependency[] {
  const rows = store.sql(DEPENDENCIES).all({ queue, id }) as DependencyRow[];
  return rows.map((row) => ({
    id: row.dep,
    done: row.done === 1,
    result:
      row.done === 1 && row.result !== null ? { bytes: row.result, format: row.result_format ?? 0 } : null,
  }));
}
