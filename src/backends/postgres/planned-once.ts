/*
 * The hot statements (a claim, a receive, a completion, a failure) as server-side functions that
 * keep one generic plan per connection. Sent as they are, PostgreSQL plans them afresh at every
 * run: a custom plan for LIMIT 1 or for one id always looks cheaper than the generic one, so the
 * plan cache never settles, and planning these statements took 0.3–0.57 ms of a 0.6 ms claim.
 * Asking for generic plans per connection (SET plan_cache_mode before, RESET after) costs a
 * round trip per switch, which a database one network hop away pays dearly (reverted: −35% to
 * −47% at 1 ms). A function carries the setting itself: PL/pgSQL caches the plan of the statement
 * it runs, and the setting applies to that call alone, on the server, so nothing else a
 * connection runs (a user's own statements, Spool's reads) is planned otherwise. The generic plan
 * is asked for only once the table's statistics can be trusted (GENERIC_PLANS_KEPT below), and
 * Connections calls the functions only then. Their generic plans are the same index walks as the
 * custom ones, for any queue at any depth (planned-once.test.ts).
 *
 * The body of each function is the statement itself (queries.ts), so a statement and its
 * function cannot drift apart on a new store; a store keeps the body its migration wrote, so a
 * change to one of these statements needs a migration that replaces its function
 * (planned-once.test.ts fails until there is one).
 */
import * as Q from "./queries.js";

/** The columns of a job row as JOB (read-queries.ts) returns them, with their types. */
const JOB_COLUMNS = `id bigint, queue text, state text, payload bytea, format smallint, priority bigint,
  attempts integer, claims integer, max_attempts integer, key text, backoff text, created_at float8,
  run_at float8, lease_until float8, finished_at float8, last_error text, result bytea,
  result_format smallint, progress text, grp text, run_at_us float8`;

interface PlannedOnce {
  /** The function's name in the schema. */
  fn: string;
  /** Its arguments' types: $1, $2, … of the statement. */
  args: string;
  /** The columns it returns, as the statement does, with their types. */
  returns: string;
  /** The statement it runs, `{S}` for the schema. */
  body: string;
}

export const PLANNED_ONCE = {
  CLAIM: {
    fn: "claim",
    args: "text, bigint, float8",
    returns: `${JOB_COLUMNS}, expires_in float8, trace text`,
    body: Q.CLAIM,
  },
  CLAIM_BOUNDED: {
    fn: "claim_bounded",
    args: "text, bigint, float8, integer, float8",
    returns: `${JOB_COLUMNS}, expires_in float8, trace text`,
    body: Q.CLAIM_BOUNDED,
  },
  TAKE: { fn: "take", args: "text, bigint, text", returns: JOB_COLUMNS, body: Q.TAKE },
  COMPLETE: {
    fn: "complete",
    args: "text, bigint[], integer[], bytea[], smallint[], integer[]",
    returns: "id float8, done boolean, found boolean",
    body: Q.COMPLETE,
  },
  COMPLETE_DELETE: {
    fn: "complete_delete",
    args: "text, bigint[], integer[], integer[], bytea[], smallint[]",
    returns: "id float8, done boolean, kept boolean, found boolean",
    body: Q.COMPLETE_DELETE,
  },
  FAIL: {
    fn: "fail",
    args: "text, bigint[], integer[], text[], float8[], text, integer[]",
    returns: "id float8, done boolean, found boolean",
    body: Q.FAIL,
  },
} as const satisfies Record<string, PlannedOnce>;

export type PlannedOnceName = keyof typeof PLANNED_ONCE;

const argCount = (p: PlannedOnce) => p.args.split(",").length;

/**
 * When a generic plan is made and kept: once the table's statistics say it held at least
 * GENERIC_FROM_ROWS rows when last analyzed or vacuumed, and it takes GENERIC_FROM_BYTES on disk
 * now. A plan is made for the table as the planner sees it when the plan is first needed, and
 * kept until the table is next analyzed (autovacuum, which may never come). Made on an empty
 * table, or on one with no statistics yet, it stayed that table's plan after the table grew: a
 * review found the outer UPDATE walking all of jobs_state for its rows (43 ms a claim at 300,000
 * jobs, 48 ms a completion), and a receive sorting every pending job (106 ms). Until then each
 * run is planned afresh, for the table as it is, as PostgreSQL does by itself (`auto`): what a
 * statement sent alone got. A process that adds 1,000 jobs has the table analyzed
 * (statistics.ts), and autovacuum analyzes it too.
 */
const GENERIC_FROM_ROWS = 1000;
const GENERIC_FROM_BYTES = 8 * 8192;

/** Whether the jobs table is one whose generic plans may be kept (see above), as `kept`. */
const GENERIC_PLANS_KEPT = `SELECT c.reltuples >= ${GENERIC_FROM_ROWS} AND pg_catalog.pg_relation_size(c.oid) >= ${GENERIC_FROM_BYTES} AS kept
    FROM pg_catalog.pg_class AS c WHERE c.oid = '{S}.jobs'::regclass`;

/**
 * CREATE FUNCTION for each statement. `#variable_conflict use_column`: the returned columns are
 * also PL/pgSQL variables, and in the statement every such name means the table's column. A
 * setting changed inside a function whose definition sets it too lasts only for that call, so
 * set_config's `force_generic_plan` ends with the call.
 */
export function plannedOnceFunctions(): string {
  return Object.values(PLANNED_ONCE)
    .map(
      (p: PlannedOnce) => `
CREATE FUNCTION {S}.${p.fn}(${p.args}) RETURNS TABLE (${p.returns})
LANGUAGE plpgsql SET plan_cache_mode = auto AS $fn$
#variable_conflict use_column
BEGIN
  IF (${GENERIC_PLANS_KEPT}) THEN
    PERFORM pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true);
  END IF;
  RETURN QUERY ${p.body.trim()};
END
$fn$;`,
    )
    .join("\n");
}

/** The call that runs statement `name` through its function, with the same parameters. */
function plannedOnceCall(name: PlannedOnceName, quotedSchema: string): string {
  const p: PlannedOnce = PLANNED_ONCE[name];
  const params = Array.from({ length: argCount(p) }, (_, k) => `$${k + 1}`).join(", ");
  return `SELECT * FROM ${quotedSchema}.${p.fn}(${params})`;
}

/**
 * What a process needs to send these statements through their functions: each one's call, and
 * the question whether the table is one whose plans the functions keep. While it is not, the
 * statements go as they are (Connections): a function whose plans are made afresh at every run
 * only adds its own cost (measured: 161 against 97 µs a claim on a small table).
 */
export interface PlannedOnceTexts {
  calls: Partial<Record<Q.QueryName, string>>;
  /** One row, `kept`: whether the functions keep their generic plans now. */
  gate: string;
}

export function plannedOnceTexts(quotedSchema: string): PlannedOnceTexts {
  const calls: Partial<Record<Q.QueryName, string>> = {};
  for (const name of Object.keys(PLANNED_ONCE) as PlannedOnceName[])
    calls[name] = plannedOnceCall(name, quotedSchema);
  return { calls, gate: GENERIC_PLANS_KEPT.split("{S}").join(quotedSchema) };
}
