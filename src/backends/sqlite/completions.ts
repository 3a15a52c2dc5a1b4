// Completions of one queue issued one after another (a worker's finished jobs, which join its
// next claim's transaction: worker-completions.ts) written by one UPDATE … FROM (VALUES …) where
// each took an UPDATE of its own (the writer hands them over together: Mergeable in
// writer.ts). In a 16-job transaction that measured about 3.0 µs a job against 4.4–6.5 µs one
// by one, and the writer runs one function for them, not sixteen.
// Each completion keeps its own outcome: the statement returns the rows it completed, and a
// job it did not is told lost from missing as before (EXISTS).
import type { HeldOutcome, Hold } from "../../backend.js";
import { RELEASED_QUEUES } from "./dependencies.js";
import * as Q from "./queries.js";
import type { Store } from "./store.js";
import { IN_TRANSACTION, type InTransaction } from "./writer.js";

/** One completion waiting for its queue's statement. */
export interface PendingCompletion extends Hold {
  id: number;
  bytes: Uint8Array | null;
  format: number | null;
  /** Set by the write: its outcome, or the error of its own statement. */
  outcome?: HeldOutcome | undefined;
  error?: unknown;
  /** The queues in which it released waiting jobs (it had dependents). */
  released: string[];
}

/** Rows per statement: 5 values a row, well under SQLite's bound on variables. */
const ROWS = 32;

/**
 * Result bytes per statement. The statement holds every bound result at once (and SQLite its
 * VALUES list once more): 32 results of 32 MB took twice the memory and 2.7 times the time of
 * one statement each. A result this big or bigger is written alone.
 */
const BYTES = 256 * 1024;

/** `batch` in statements' worth: at most ROWS rows and about BYTES of results each. */
function* chunks(batch: PendingCompletion[]): Generator<PendingCompletion[]> {
  let chunk: PendingCompletion[] = [];
  let bytes = 0;
  for (const c of batch) {
    const size = c.bytes?.byteLength ?? 0;
    if (chunk.length === ROWS || (chunk.length > 0 && bytes + size > BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(c);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * HELD_AT for each row of the VALUES list (id, token, attempt, result, result_format; SQLite
 * names them column1…column5). A join row matches one job row at most, and a job row is updated
 * once: the caller keeps a job's second completion in a batch out of the statement. Built once
 * per row count: the text is also the key of the prepared-statement cache, looked up per chunk.
 */
const COMPLETE_MANY: string[] = [];

function completeMany(rows: number): string {
  COMPLETE_MANY[rows] ??= `
  UPDATE spool_jobs SET state = 'completed', finished_at = ?, lease_until = NULL,
                        result = v.column4, result_format = v.column5
    FROM (VALUES ${Array(rows).fill("(?, ?, ?, ?, ?)").join(", ")}) AS v
   WHERE spool_jobs.id = v.column1 AND queue = ? AND state = 'reserved'
     AND (v.column2 IS NULL OR claims = v.column2) AND (v.column3 IS NULL OR attempts = v.column3)
     AND lease_until >= ?
  RETURNING spool_jobs.id, dependents`;
  return COMPLETE_MANY[rows];
}

/**
 * Writes `batch` (inside the writer's transaction) and sets each one's outcome. A statement
 * that fails takes only its own completions with it: they are written one by one, and only
 * the one whose statement fails carries the error. Not after an error that ended the whole
 * transaction: that one is thrown, for the writer to run each of its writes alone.
 */
export function writeCompletions(store: Store, queue: string, batch: PendingCompletion[], now: number): void {
  const first: PendingCompletion[] = [];
  const again: PendingCompletion[] = [];
  const seen = new Set<number>();
  for (const c of batch) {
    c.outcome = undefined;
    c.error = undefined;
    c.released = [];
    (seen.has(c.id) ? again : first).push(c);
    seen.add(c.id);
  }
  for (const chunk of chunks(first)) {
    if (chunk.length === 1) {
      writeOne(store, queue, chunk[0] as PendingCompletion, now);
      continue;
    }
    const binds: unknown[] = [now];
    for (const c of chunk) binds.push(c.id, c.token, c.attempt, c.bytes, c.format);
    binds.push(queue, now);
    let rows: [id: number, dependents: number | null][];
    try {
      rows = store.rawSql(completeMany(chunk.length)).all(binds) as typeof rows;
    } catch (error) {
      if (!store.db.inTransaction) throw error;
      for (const c of chunk) writeOne(store, queue, c, now);
      continue;
    }
    const done = new Map(rows);
    for (const c of chunk) {
      if (!done.has(c.id)) {
        c.outcome = missed(store, queue, c.id);
        continue;
      }
      c.outcome = "ok";
      if (done.get(c.id) !== null) c.released = released(store, c.id);
    }
  }
  for (const c of again) writeOne(store, queue, c, now);
}

/** One completion by its own statement (COMPLETE); its error stays its own. */
function writeOne(store: Store, queue: string, c: PendingCompletion, now: number): void {
  let row: [dependents: number | null] | undefined;
  try {
    row = store
      .rawSql(Q.COMPLETE)
      .get(now, c.bytes, c.format, queue, c.id, c.token, c.token, c.attempt, c.attempt, now) as typeof row;
  } catch (error) {
    if (!store.db.inTransaction) throw error;
    c.error = error;
    return;
  }
  if (row === undefined) {
    c.outcome = missed(store, queue, c.id);
    return;
  }
  c.outcome = "ok";
  if (row[0] !== null) c.released = released(store, c.id);
}

/**
 * One completion by COMPLETE_ALONE with no transaction around it (the writer's autocommit: see
 * Writer.write), when it shares its commit with no other write. A job it did not complete
 * changed nothing: IN_TRANSACTION then runs the completion in a transaction, where a lost lease
 * is told from a missing job in the same view of the store, and where a job others depend on is
 * completed together with the read of the queues it released (a read that failed after a commit
 * of its own would report an error for a completion that happened).
 */
export function completeAlone(
  store: Store,
  queue: string,
  c: PendingCompletion,
  now: number,
): InTransaction | undefined {
  // run(): stepped to its end, so SQLite's automatic checkpoint runs after its commit (see
  // claimAlone in backend.ts).
  const { changes } = store
    .sql(Q.COMPLETE_ALONE)
    .run(now, c.bytes, c.format, queue, c.id, c.token, c.token, c.attempt, c.attempt, now);
  if (changes === 0) return IN_TRANSACTION;
  c.error = undefined;
  c.outcome = "ok";
  c.released = [];
  return undefined;
}

/** A held job the statement did not change: gone, or held by no one it knows. */
function missed(store: Store, queue: string, id: number): HeldOutcome {
  return store.sql(Q.EXISTS).get({ queue, id }) === undefined ? "not_found" : "lease_lost";
}

function released(store: Store, id: number): string[] {
  return (store.sql(RELEASED_QUEUES).all({ id }) as { queue: string }[]).map((r) => r.queue);
}
