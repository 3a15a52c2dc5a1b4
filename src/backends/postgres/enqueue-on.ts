// An add on the caller's own connection, inside its transaction (`add(…, { client })`): the
// same statements as the backend's enqueue, but never a BEGIN, COMMIT or ROLLBACK of ours, so
// the jobs, and the NOTIFY that wakes workers, exist only if the caller's transaction commits.
import type { NewJob } from "../../backend.js";
import { SpoolError, show } from "../../errors.js";
import type { SqlClient } from "../../types.js";
import { hasDependencies, linkDependencies, lockDependencies } from "./dependencies.js";
import { enqueueValues } from "./enqueue.js";
import { makeTranslator } from "./errors.js";
import type { Limits } from "./limits.js";
import type { Connections, Row, Values } from "./pool.js";
import type { QueryName } from "./queries.js";
import { num } from "./rows.js";

/**
 * A boolean column as the caller's driver gave it: `pg` parses booleans, but a client that
 * returns PostgreSQL's text form ("t"/"f") must not read "f" as true.
 */
function yes(value: unknown): boolean {
  return value === true || value === "t" || value === "true" || value === 1 || value === "1";
}

/** How often the look-up of a key's holder may find it gone (it finished meanwhile) before giving up. */
const KEY_ROUNDS = 5;

interface ClientEnqueue {
  /** The statement's text, schema filled in. */
  text(name: QueryName): string;
  /** ENQUEUE's values for `jobs`. */
  values(jobs: readonly NewJob[]): Values;
  translate(error: unknown, doing: string): unknown;
}

/** What an add on the caller's client needs of the backend. */
export interface CallerAdds {
  db: Connections;
  channel: string;
  limits: Limits;
  /** Counts rows added, for the first ANALYZE (statistics.ts). */
  noteAdded(n: number): void;
}

// Its errors are the caller's connection's: never labelled with Spool's own URL.
const callerTranslate = makeTranslator("the caller's connection", () => false);

/** Backend.enqueueOn: an add on the caller's `client`, inside its transaction. */
export async function addOnCaller(
  on: CallerAdds,
  client: SqlClient,
  queue: string,
  jobs: NewJob[],
  inserted?: boolean[],
): Promise<number[]> {
  if (jobs.length === 0) return [];
  on.db.assertOpen();
  // The queue's grouped flag is set on Spool's own connection: it must hold even if the
  // caller's transaction rolls back (a flag set for nothing costs only the grouped claim).
  const grouped = jobs.some((j) => j.group != null);
  if (grouped) await on.limits.markGrouped(queue);
  const ids = await enqueueOnClient(
    {
      // now() is when the caller's transaction began, which may be long before this add:
      // a delay or ttl counts from the statement instead, as it does on Spool's own adds.
      text: (name) => on.db.text(name).replaceAll("now()", "statement_timestamp()"),
      // Text: the caller's client may be pg's native one, or anything with query().
      values: (some) => enqueueValues(queue, on.channel, some, grouped, "text"),
      translate: callerTranslate,
    },
    client,
    queue,
    jobs,
    inserted,
  );
  on.noteAdded(ids.length);
  return ids;
}

async function enqueueOnClient(
  on: ClientEnqueue,
  client: SqlClient,
  queue: string,
  jobs: NewJob[],
  inserted?: boolean[],
): Promise<number[]> {
  const doing = `adding ${jobs.length} job(s) to ${show(queue)} on the caller's client`;
  const run = async (name: QueryName, values: Values): Promise<Row[]> => {
    let result: { rows: unknown[] };
    try {
      result = await client.query(on.text(name), values);
    } catch (error) {
      throw on.translate(error, doing);
    }
    if (typeof result !== "object" || result === null || !Array.isArray(result.rows)) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `client.query must resolve with { rows }, got ${show(result)}`,
      );
    }
    return result.rows as Row[];
  };
  const linked = hasDependencies(jobs);
  // Before anything is written: NOT_FOUND leaves the caller's transaction as it was.
  if (linked) await lockDependencies(run, jobs);
  if (jobs.every((j) => j.key === null)) {
    if (inserted !== undefined) for (let i = 0; i < jobs.length; i++) inserted[i] = true;
    const ids = (await run("ENQUEUE_PLAIN", on.values(jobs))).map((r) => num(r.id));
    if (linked)
      await linkDependencies(
        run,
        jobs,
        ids,
        ids.map(() => true),
      );
    return ids;
  }
  const keys = [...new Set(jobs.flatMap((j) => (j.key === null ? [] : [j.key])))];
  await run("RESCUE_KEYED", [queue, keys]);
  const ids: (number | undefined)[] = new Array(jobs.length);
  const placed: boolean[] = jobs.map(() => false);
  // Jobs still to place: their index in `jobs`. A key whose live holder finished between our
  // insert (which met it) and the look-up can be inserted now: those jobs go round again. No
  // savepoint is needed for that, since a round inserts only jobs no earlier round placed.
  let todo = jobs.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round === KEY_ROUNDS) {
      throw new SpoolError("BUSY", `${doing}: a key's live job kept finishing while the add looked it up`);
    }
    const rows = await run("ENQUEUE", on.values(todo.map((i) => jobs[i] as NewJob)));
    const byKey = new Map<string, number>();
    for (const [n, r] of rows.entries()) {
      const i = todo[n] as number;
      if (inserted !== undefined) inserted[i] = yes(r.inserted);
      if (yes(r.inserted)) {
        ids[i] = num(r.id);
        placed[i] = true;
        if (r.key !== null && !byKey.has(String(r.key))) byKey.set(String(r.key), num(r.id));
      }
    }
    const missing = [
      ...new Set(rows.filter((r) => !yes(r.inserted) && !byKey.has(String(r.key))).map((r) => String(r.key))),
    ];
    if (missing.length > 0)
      for (const r of await run("FIND_KEYED", [queue, missing])) byKey.set(String(r.key), num(r.id));
    const next: number[] = [];
    for (const i of todo) {
      if (ids[i] !== undefined) continue;
      const held = byKey.get(String(jobs[i]?.key));
      if (held === undefined) next.push(i);
      else ids[i] = held;
    }
    todo = next;
  }
  if (linked) await linkDependencies(run, jobs, ids as number[], placed);
  return ids as number[];
}
