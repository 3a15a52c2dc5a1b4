/*
 * The claim's upkeep (lapsed leases, ttl expiry) runs at most every so often while claims find
 * work: these prove nothing is served that should not be, and nothing lapsed is left behind.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { bindQueries } from "../../src/backends/postgres/queries.js";
import { fixture, job, PG_URL, pgConfigured, sql, until } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/claim.test.ts");
const T = { timeout: 30_000 };

describe("postgres backend: claim upkeep", { skip: !run }, () => {
  test("a lapsed lease comes back while claims keep finding other work", T, async (t) => {
    const b = await fixture(t).open();
    const [lapsing] = (await b.enqueue("q", [job("lapsing", { priority: 10 })])) as number[];
    await b.enqueue(
      "q",
      Array.from({ length: 500 }, (_, i) => job(i)),
    );
    await b.claim("q", 1, 1);
    const again = await until("the lapsed job to be claimed again", async () => {
      const rows = await b.claim("q", 2, 30_000);
      assert.equal(rows.length, 2, "every claim finds work");
      return rows.find((r) => r.id === lapsing);
    });
    assert.equal(again.attempts, 2);
  });

  test("a job past its ttl is never claimed, even between two upkeeps", T, async (t) => {
    const b = await fixture(t).open();
    await b.enqueue(
      "q",
      Array.from({ length: 50 }, (_, i) => job(i)),
    );
    await b.claim("q", 1, 30_000); // upkeep ran just now: the next ones within 250 ms skip it
    const [stale] = (await b.enqueue("q", [job("stale", { ttlMs: 1, priority: 10 })])) as number[];
    await new Promise((r) => setTimeout(r, 20));
    const rows = await b.claim("q", 10, 30_000);
    assert.equal(rows.length, 10);
    assert.ok(!rows.some((r) => r.id === stale), "the expired job is not served");
    const dead = await until("the expired job to die", async () => {
      await b.claim("q", 1, 30_000);
      const j = await b.get("q", stale as number);
      return j?.state === "dead" ? j : undefined;
    });
    assert.equal(dead.lastError, "expired");
  });

  test(
    "a new table gets statistics once jobs are added, so a deep claim reads only what it returns",
    T,
    async (t) => {
      const f = fixture(t);
      const b = await f.open();
      for (let i = 0; i < 5; i++) {
        await b.enqueue(
          "q",
          Array.from({ length: 1000 }, (_, k) => job(i * 1000 + k)),
        );
      }
      await until("the jobs table to be analyzed", async () => {
        const rows = await sql("SELECT 1 FROM pg_stats WHERE schemaname = $1 AND tablename = 'jobs'", [
          f.schema,
        ]);
        return rows.length > 0 ? true : undefined;
      });
      // The claim's own statement, as the server plans it now (rolled back): an index walk of
      // the rows it returns, no sort of every pending row, no scan of the whole table.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      let text: string;
      try {
        await client.query("BEGIN");
        const claim = bindQueries(`"${f.schema}"`).CLAIM;
        const plan = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${claim}`, ["q", 10, 30_000]);
        text = JSON.stringify(plan.rows[0]);
        await client.query("ROLLBACK");
      } finally {
        await client.end();
      }
      assert.ok(!text.includes('"Sort"') && !text.includes('"Seq Scan"'), `the plan: ${text}`);
      const rows = await b.claim("q", 10, 30_000);
      assert.equal(rows.length, 10);
    },
  );
});
