/*
 * The statements run through functions that plan once per connection (planned-once.ts). A large
 * queue beside a small one is where a generic plan goes wrong: one that cannot see which queue it
 * serves may walk the large queue's rows to find the small one's (a generic LIST_STATE did: 148
 * ms against 0.5), so each statement runs here for the small queue, beside a large one, under
 * its generic plan, and must read only the rows it serves.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import pg from "pg";
import {
  PLANNED_ONCE,
  type PlannedOnceName,
  plannedOnceFunctions,
} from "../../src/backends/postgres/planned-once.js";
import type { Connections } from "../../src/backends/postgres/pool.js";
import { fixture, genericPlan, job, PG_URL, type PlanNode, pgConfigured, sql } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/planned-once.test.ts");
const T = { timeout: 120_000 };
const LARGE = 50_000;

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

/**
 * What migration 9 wrote. A store keeps the functions its migration created: when this changes,
 * a statement of PLANNED_ONCE changed, and stores migrated before need a new migration that
 * replaces its function (CREATE OR REPLACE); then update this fingerprint.
 */
const MIGRATION_9_FINGERPRINT = "bfde1875eb54013f";

describe("postgres: statements planned once per connection", { skip: !run }, () => {
  test(
    "a small table's statements go as they are; once it has statistics from 1,000 rows, through their functions",
    T,
    async (t) => {
      const f = fixture(t);
      // One connection: the statements it has prepared are those the backend sent.
      const b = await f.open({ poolSize: 1 });
      const prepared = async (): Promise<string[]> => {
        const db = (b as unknown as { db: Connections }).db;
        const rows = await db.withClient("reading prepared statements", async (client) => {
          return (await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements")).rows;
        });
        return rows.map((r) => r.name);
      };
      const reserveAndComplete = async (): Promise<void> => {
        const [held] = await b.claim("q", 1, 60_000);
        assert.ok(held);
        const hold = { attempt: held.attempts, token: held.claims };
        assert.equal(await b.complete("q", held.id, hold, null, true), "ok");
      };
      await b.enqueue(
        "q",
        Array.from({ length: 4 }, (_, k) => job(k)),
      );
      await reserveAndComplete();
      assert.ok((await prepared()).includes("spool_CLAIM"));
      assert.ok(!(await prepared()).includes("spool_CLAIM_once"), "no function for a small table");
      // This process's adds have the table analyzed (statistics.ts); then the functions serve.
      await b.enqueue(
        "q",
        Array.from({ length: 1_500 }, (_, k) => job(k)),
      );
      const deadline = Date.now() + 30_000;
      while (!(await prepared()).includes("spool_CLAIM_once")) {
        assert.ok(Date.now() < deadline, "the claim never went through its function");
        await reserveAndComplete();
      }
      await reserveAndComplete();
      assert.ok((await prepared()).includes("spool_COMPLETE_once"));
      const rows = await sql<{ fn: string; src: string; config: string[] | null }>(
        `SELECT p.proname AS fn, p.prosrc AS src, p.proconfig AS config FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`,
        [f.schema],
      );
      for (const [name, p] of Object.entries(PLANNED_ONCE)) {
        const found = rows.find((r) => r.fn === p.fn);
        assert.ok(found, `${name}: no function ${p.fn}`);
        assert.ok(
          found.src.includes(p.body.trim().split("{S}").join(`"${f.schema}"`)),
          `${name}: body differs`,
        );
        assert.deepEqual(found.config, ["plan_cache_mode=auto"], name);
      }
      // The claim goes through its function now: without it, a claim fails.
      await sql(`DROP FUNCTION "${f.schema}".claim(${PLANNED_ONCE.CLAIM.args})`);
      await assert.rejects(b.claim("q", 1, 60_000), /claim/);
    },
  );

  test(
    "a plan made while the table was empty or had no statistics is not kept once it has grown",
    T,
    async (t) => {
      // Found by review: with the generic plan forced at every call, a connection that first
      // claimed from an empty table kept that table's plan, and once 300,000 jobs had been added
      // (by producers that never had the table analyzed) every claim read all of them.
      const f = fixture(t);
      const b = await f.open();
      await b.close();
      const s = `"${f.schema}"`;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      t.after(() => client.end());
      const claim = `SELECT * FROM ${s}.claim('q', 1, 60000)`;
      assert.equal((await client.query(claim)).rows.length, 0);
      await client.query(
        `INSERT INTO ${s}.jobs (queue, state, payload, format, priority, max_attempts, run_at)
         SELECT 'q', 'pending', '\\x00'::bytea, 0, 0, 3, now() - g * interval '1 ms' FROM generate_series(1, ${LARGE}) AS g`,
      );
      const plans: PlanNode[] = [];
      client.on("notice", (notice) => {
        const message = notice.message ?? "";
        const at = message.indexOf("{");
        if (message.includes("UPDATE") && at >= 0)
          plans.push((JSON.parse(message.slice(at)) as { Plan: PlanNode }).Plan);
      });
      await client.query("LOAD 'auto_explain'");
      await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
        SET auto_explain.log_nested_statements = on; SET auto_explain.log_format = json; SET client_min_messages = log`);
      assert.equal((await client.query(claim)).rows.length, 1);
      assert.equal(plans.length, 1, "the claim's statement, as auto_explain logged it");
      const read = jobRowsRead(plans[0] as PlanNode);
      assert.ok(read <= 100, `the claim read ${read} rows of jobs`);
    },
  );

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
      await b.enqueue(
        "small",
        Array.from({ length: 20 }, (_, k) => job(k)),
      );
      const held = await b.claim("small", 6, 600_000);
      assert.equal(held.length, 6);
      const list = (values: Array<number | string | null>) =>
        `'{${values.map((v) => v ?? "NULL").join(",")}}'`;
      const ids = list(held.map((j) => j.id));
      const attempts = list(held.map((j) => j.attempts));
      const tokens = list(held.map((j) => j.claims));
      const nulls = list(held.map(() => null));
      const args: Record<PlannedOnceName, string> = {
        CLAIM: "'small', 5, 30000",
        CLAIM_BOUNDED: "'small', 5, 30000, 5, 1048576",
        TAKE: "'small', 5, 'woken'",
        COMPLETE: `'small', ${ids}, ${attempts}, ${nulls}, ${nulls}, ${tokens}`,
        COMPLETE_DELETE: `'small', ${ids}, ${attempts}, ${tokens}, ${nulls}, ${nulls}`,
        FAIL: `'small', ${ids}, ${attempts}, ${list(held.map(() => "x"))}, ${nulls}, 'woken', ${tokens}`,
      };
      for (const [name, p] of Object.entries(PLANNED_ONCE) as Array<
        [PlannedOnceName, (typeof PLANNED_ONCE)[PlannedOnceName]]
      >) {
        const text = p.body.split("{S}").join(`"${f.schema}"`);
        const read = jobRowsRead(await genericPlan(text, p.args, args[name]));
        assert.ok(read <= 100, `${name} read ${read} rows of jobs under its generic plan`);
      }
    },
  );
});

// Needs no server: it reads the code.
test("the functions a new store gets are those migration 9 wrote", () => {
  const fingerprint = createHash("sha256").update(plannedOnceFunctions()).digest("hex").slice(0, 16);
  assert.equal(
    fingerprint,
    MIGRATION_9_FINGERPRINT,
    "a statement planned once changed: stores migrated before keep its old function, so add a " +
      "migration that replaces it (CREATE OR REPLACE FUNCTION), then update MIGRATION_9_FINGERPRINT",
  );
});
