/*
 * The claim's upkeep (lapsed leases, ttl expiry) runs at most every so often while claims find
 * work: these prove nothing is served that should not be, and nothing lapsed is left behind.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixture, job, pgConfigured, until } from "./pg-helpers.js";

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
});
