// GET /metrics on the dashboard: the Prometheus text format, read back with a real parser,
// behind the same token rules as the rest; on every store the dashboard tests use.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startDashboard } from "../../src/dashboard/server.js";
import { parseExposition, sampleValue } from "../helpers/prometheus-text.js";
import { raw, stores } from "./helpers.js";

const T = { timeout: 30_000 };

for (const store of stores) {
  describe(`dashboard /metrics (${store.name})`, () => {
    test("serves the Prometheus text format without a token set", T, async (t) => {
      const spool = await store.open(t);
      await spool.queue("emails").addBatch([1, 2]);
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const res = await raw(`${server.url}metrics`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const m = parseExposition(res.body);
      assert.equal(m.get("spool_jobs")?.type, "GAUGE");
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "pending" }), 2);
      assert.equal(m.get("spool_jobs_added_total")?.type, "COUNTER");
      // A second scrape reuses the dashboard's registry (no duplicate registration).
      assert.equal((await raw(`${server.url}metrics`)).status, 200);
    });

    test("with a token set, refuses a scrape without it and serves one with a Bearer token", T, async (t) => {
      const spool = await store.open(t);
      await spool.queue("emails").add(1);
      const server = await startDashboard(spool, { port: 0, token: "s3cret-token" });
      t.after(() => server.close());
      const refused = await raw(`${server.url}metrics`);
      assert.equal(refused.status, 401);
      assert.doesNotMatch(refused.body, /spool_jobs/);
      const wrong = await raw(`${server.url}metrics`, { headers: { Authorization: "Bearer nope" } });
      assert.equal(wrong.status, 401);
      const res = await raw(`${server.url}metrics`, { headers: { Authorization: "Bearer s3cret-token" } });
      assert.equal(res.status, 200);
      const m = parseExposition(res.body);
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "pending" }), 1);
    });
  });
}
