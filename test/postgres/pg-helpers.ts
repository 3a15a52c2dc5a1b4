/*
 * Shared by the PostgreSQL test files: a fresh random schema per test, dropped afterwards, and
 * bounded waiting for a condition (never a guessed sleep standing in for one).
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import pg from "pg";
import type { Backend, BackendOptions, Hold } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";

export const PG_URL = process.env.SPOOL_PG_URL;

/** A hold by attempt alone (null: any holder), as a Job rebuilt elsewhere would give. */
export const at = (attempt: number | null): Hold => ({ attempt, token: null });

/** Prints the one skip notice of a file when no server is configured; true when tests run. */
export function pgConfigured(file: string): boolean {
  if (PG_URL === undefined || PG_URL === "") {
    console.log(`# ${file}: skipped, SPOOL_PG_URL is not set`);
    return false;
  }
  return true;
}

export function baseOptions(schema: string, more: Partial<BackendOptions> = {}): BackendOptions {
  return {
    durability: "full",
    busyTimeout: 5000,
    fileMode: 0o600,
    schema,
    crossProcessWakeups: true,
    create: true,
    migrate: true,
    clock: () => Date.now(),
    ...more,
  };
}

/** Runs SQL on a connection of its own (outside any backend). */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface Fixture {
  schema: string;
  /** Opens a backend on this test's schema; closed when the test ends. */
  open(more?: Partial<BackendOptions>): Promise<Backend>;
}

/** A fresh schema for one test; every backend opened on it is closed and the schema dropped. */
export function fixture(t: TestContext): Fixture {
  const schema = `spool_t_${randomBytes(6).toString("hex")}`;
  const opened: Backend[] = [];
  t.after(async () => {
    for (const b of opened) await b.close().catch(() => {});
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return {
    schema,
    async open(more = {}) {
      const backend = await openPostgresBackend(PG_URL as string, baseOptions(schema, more));
      opened.push(backend);
      return backend;
    },
  };
}

export { job } from "../helpers/new-job.js";

export const text = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the first value `subscribe`'s listener receives that satisfies `accept`. */
export function nextSignal(
  backend: Backend,
  accept: (queue: string | null) => boolean,
  ms = 10_000,
): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no notification within ${ms} ms`));
    }, ms);
    const off = backend.notifier.subscribe((queue) => {
      if (!accept(queue)) return;
      clearTimeout(timer);
      off();
      resolve(queue);
    });
  });
}

/** A node of EXPLAIN's JSON plan, with the fields the plan tests read. */
export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "CTE Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

/** `text` run under its generic plan with `args` (SQL literals), rolled back: its plan. */
export async function genericPlan(text: string, types: string, args: string): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL plan_cache_mode = force_generic_plan");
    await client.query(`PREPARE generic_plan(${types}) AS ${text}`);
    const result = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_plan(${args})`);
    return (result.rows[0]["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]?.Plan as PlanNode;
  } finally {
    await client.query("ROLLBACK").catch(() => {});
    await client.end();
  }
}
