/*
 * The statements a connection runs on one generic plan (GENERIC_PLANS in pool.ts): planned once,
 * not at every run, and as good as their custom plans for any queue. A large queue beside a
 * small one is where a generic plan goes wrong: one that cannot see which queue it serves may
 * walk the large queue's rows to find the small one's (a generic LIST_STATE did: 148 ms), so
 * each statement here runs for the small queue, beside a large one, under its generic plan.
 * Every other statement keeps PostgreSQL's own choice on the same connections.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import type { Backend } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
import { GENERIC_PLANS } from "../../src/backends/postgres/pool.js";
import { bindQueries } from "../../src/backends/postgres/queries.js";
import { baseOptions, fixture, job, PG_URL, pgConfigured } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/generic-plans.test.ts");
const T = { timeout: 120_000 };
const LARGE = 50_000;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

/** Rows every scan of the jobs table in `node` read: those it returned and those it threw away. */
function jobRowsRead(node: PlanNode): number {
  const here =
    node["Relation Name"] === "jobs"
      ? (node["Actual Rows"] +
          (node["Rows Removed by Filter"] ?? 0) +
          (node["Rows Removed by Index Recheck"] ?? 0)) *
        node["Actual Loops"]
      : 0;
  return here + (node.Plans ?? []).reduce((sum, child) => sum + jobRowsRead(child), 0);
}

/** `text` run under its generic plan with `args` (SQL literals), rolled back: its plan. */
async function genericPlan(text: string, args: string): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL plan_cache_mode = force_generic_plan");
    await client.query(`PREPARE generic_plan AS ${text}`);
    const result = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_plan(${args})`);
    return (result.rows[0]["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]?.Plan as PlanNode;
  } finally {
    await client.query("ROLLBACK").catch(() => {});
    await client.end();
  }
}

/** The plans each statement was run with on `b`'s connections, by statement name. */
async function plansRun(b: Backend): Promise<Map<string, { generic: number; custom: number }>> {
  const db = (
    b as unknown as {
      db: { withClient<T>(doing: string, body: (c: pg.PoolClient) => Promise<T>): Promise<T> };
    }
  ).db;
  const rows = await db.withClient("reading plan counts", async (client) => {
    const r = await client.query(
      "SELECT name, generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements",
    );
    return r.rows as Array<{ name: string; generic: number; custom: number }>;
  });
  return new Map(rows.map((r) => [r.name.replace(/^spool_/, ""), { generic: r.generic, custom: r.custom }]));
}

describe("postgres: statements planned once per connection", { skip: !run }, () => {
  test(
    "claims, completions and failures keep one generic plan; a list keeps PostgreSQL's choice",
    T,
    async (t) => {
      // One connection: every statement below runs on it, in turn.
      const b = await fixture(t).open({ poolSize: 1 });
      await b.enqueue(
        "q",
        Array.from({ length: 40 }, (_, k) => job(k)),
      );
      for (let i = 0; i < 10; i++) {
        const [held] = await b.claim("q", 1, 60_000);
        assert.ok(held);
        const hold = { attempt: held.attempts, token: held.claims };
        if (i % 2 === 0) assert.equal(await b.complete("q", held.id, hold, null, true), "ok");
        else assert.equal(await b.fail("q", held.id, hold, "again", 60_000), "ok");
        // A read between: the next claim must find the connection planning its own way again.
        await b.list("q", "completed", 5, 0);
      }
      const plans = await plansRun(b);
      for (const name of ["CLAIM", "COMPLETE", "FAIL"]) {
        assert.ok(GENERIC_PLANS.has(name as never), name);
        assert.deepEqual(
          { ...plans.get(name), generic: Math.min(plans.get(name)?.generic ?? 0, 1) },
          { generic: 1, custom: 0 },
          `${name}: ${JSON.stringify(plans.get(name))}`,
        );
      }
      // PostgreSQL plans a statement custom five times before it weighs a generic plan.
      const listed = [...plans].find(([name]) => name.startsWith("LIST_STATE"));
      assert.ok(listed !== undefined && listed[1].custom >= 5, `LIST_STATE: ${JSON.stringify(listed)}`);
    },
  );

  test("a plan_cache_mode in the connection's options is the user's, and kept", T, async (t) => {
    // Both spellings the server reads: -c name=value, and --name=value with any case and dashes.
    for (const option of ["-c plan_cache_mode=force_custom_plan", "--Plan-Cache-Mode=force_custom_plan"]) {
      const url = new URL(PG_URL as string);
      url.searchParams.append("options", option);
      const f = fixture(t);
      const mine = await openPostgresBackend(url.toString(), baseOptions(f.schema, { poolSize: 1 }));
      t.after(() => mine.close());
      await mine.enqueue(
        "q",
        Array.from({ length: 10 }, (_, k) => job(k)),
      );
      for (let i = 0; i < 8; i++) await mine.claim("q", 1, 60_000);
      assert.deepEqual({ ...(await plansRun(mine)).get("CLAIM") }, { generic: 0, custom: 8 }, option);
    }
  });

  test(
    `under their generic plans, each reads only the rows it serves, beside a queue of ${LARGE}`,
    T,
    async (t) => {
      const f = fixture(t);
      const b = await f.open();
      for (let at = 0; at < LARGE; at += 5_000)
        await b.enqueue(
          "large",
          Array.from({ length: 5_000 }, (_, k) => job(at + k)),
        );
      const added = (await b.enqueue(
        "small",
        Array.from({ length: 20 }, (_, k) => job(k)),
      )) as number[];
      await b.enqueue(
        "large-done",
        Array.from({ length: 10 }, (_, k) => job(k)),
      );
      const held = await b.claim("small", 6, 600_000);
      assert.equal(held.length, 6);
      const q = bindQueries(`"${f.schema}"`);
      const list = (values: Array<number | null>) => `'{${values.map((v) => v ?? "NULL").join(",")}}'`;
      const ids = list(held.map((j) => j.id));
      const attempts = list(held.map((j) => j.attempts));
      const tokens = list(held.map((j) => j.claims));
      const nulls = list(held.map(() => null));
      const plans: Array<[string, string]> = [
        ["CLAIM", "'small', 5, 30000"],
        ["CLAIM_BOUNDED", "'small', 5, 30000, 5, 1048576"],
        ["TAKE", "'small', 5, 'woken'"],
        ["COMPLETE", `'small', ${ids}, ${attempts}, ${nulls}, ${nulls}, ${tokens}`],
        ["COMPLETE_DELETE", `'small', ${ids}, ${attempts}, ${tokens}, ${nulls}, ${nulls}`],
        [
          "FAIL",
          `'small', ${ids}, ${attempts}, ${list(held.map(() => "x" as never))}, ${nulls}, 'woken', ${tokens}`,
        ],
        ["GET", `'small', ${added[0]}`],
      ];
      for (const [name, args] of plans) {
        assert.ok(GENERIC_PLANS.has(name as never), name);
        const read = jobRowsRead(await genericPlan(q[name as keyof typeof q], args));
        assert.ok(read <= 100, `${name} read ${read} rows of jobs under its generic plan`);
      }
    },
  );
});
