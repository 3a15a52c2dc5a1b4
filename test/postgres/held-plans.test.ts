/*
 * The statements over every job a worker holds (the heartbeat's EXTEND_MANY, RELEASE on a pause
 * or stop), as PostgreSQL runs them once a connection has run them five times: a generic plan,
 * which guesses ten ids. Found by a hostile review: that plan joined the jobs to the locked rows
 * by a nested loop that read all of them again for each job, so a heartbeat over 2,000 held jobs
 * compared 4,000,000 pairs (216 ms; 795 ms at 4,000), holding those rows locked meanwhile.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bindQueries } from "../../src/backends/postgres/queries.js";
import { fixture, genericPlan, job, type PlanNode, pgConfigured } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/held-plans.test.ts");
const T = { timeout: 60_000 };
const HELD = 2_000;

/** Rows read from the CTE `name`, over every scan of it in the plan. */
function rowsReadFrom(node: PlanNode, name: string): number {
  const here =
    node["Node Type"] === "CTE Scan" && node["CTE Name"] === name
      ? node["Actual Rows"] * node["Actual Loops"]
      : 0;
  return here + (node.Plans ?? []).reduce((sum, child) => sum + rowsReadFrom(child, name), 0);
}

describe("postgres: statements over every held job, under their generic plans", { skip: !run }, () => {
  async function held(t: Parameters<typeof fixture>[0]) {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue(
      "q",
      Array.from({ length: HELD }, (_, k) => job(k)),
    );
    const jobs = await b.claim("q", HELD, 600_000);
    assert.equal(jobs.length, HELD);
    const ids = `'{${jobs.map((j) => j.id).join(",")}}'`;
    const tokens = `'{${jobs.map((j) => j.claims).join(",")}}'`;
    return { queries: bindQueries(`"${f.schema}"`), ids, tokens };
  }

  test(`a heartbeat over ${HELD} held jobs reads each locked row once`, T, async (t) => {
    const { queries, ids, tokens } = await held(t);
    const plan = await genericPlan(
      queries.EXTEND_MANY,
      "text, bigint[], integer[], float8",
      `'q', ${ids}, ${tokens}, 60000`,
    );
    assert.ok(
      rowsReadFrom(plan, "locked") <= 2 * HELD,
      `rows read from locked: ${rowsReadFrom(plan, "locked")}`,
    );
  });

  test(`handing back ${HELD} held jobs reads each locked row once`, T, async (t) => {
    const { queries, ids, tokens } = await held(t);
    const plan = await genericPlan(
      queries.RELEASE,
      "text, bigint[], integer[], text, boolean",
      `'q', ${ids}, ${tokens}, 'wake', true`,
    );
    assert.ok(
      rowsReadFrom(plan, "locked") <= 2 * HELD,
      `rows read from locked: ${rowsReadFrom(plan, "locked")}`,
    );
  });
});
