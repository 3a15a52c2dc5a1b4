// A PostgreSQL restart in the middle of a run: the worker reports the lost connections, carries
// on once the server is back, and every job ends completed. It restarts the server, so it runs
// only with SPOOL_PG_RESTART=1 (CI runs it alone, after the suite that shares the server).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import pg from "pg";
import { Spool } from "../../src/index.js";
import { waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured } from "./pg-helpers.js";

const restart = process.env.SPOOL_PG_RESTART === "1";

if (pgConfigured("restart.test.ts")) {
  test("a worker draining through a server restart loses nothing and resumes", {
    timeout: 180_000,
    skip: restart ? false : "set SPOOL_PG_RESTART=1 (it restarts the server)",
  }, async (t) => {
    const url = PG_URL as string;
    const schema = `spool_t_${randomBytes(6).toString("hex")}`;
    const spool = await Spool.open(url, { schema });
    t.after(async () => {
      await spool.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    const q = spool.queue<number>("restart", { maxAttempts: 50, backoff: { type: "fixed", delay: 50 } });
    const total = 300;
    await q.addBatch(Array.from({ length: total }, (_, i) => i));
    const seen = new Set<number>();
    const errors: unknown[] = [];
    const worker = q.process(
      async (job) => {
        seen.add(job.payload);
        // Slow enough that the restart lands mid-run.
        await new Promise((r) => setTimeout(r, 5));
      },
      { concurrency: 4, lease: 5_000, pollInterval: 200 },
    );
    worker.on("error", (e) => errors.push(e));
    await waitFor("a tenth of the jobs done", async () => seen.size >= total / 10, 30_000);
    const version = readdirSync("/etc/postgresql")[0] as string;
    execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "restart"], {
      stdio: "ignore",
    });
    await waitFor(
      "every job completed after the restart",
      async () => {
        try {
          return (await q.size()).completed === total;
        } catch {
          return false; // the pool is reconnecting
        }
      },
      120_000,
      100,
    );
    await worker.stop();
    const size = await q.size();
    assert.equal(size.completed, total);
    assert.equal(size.pending + size.reserved + size.dead, 0);
    assert.equal(seen.size, total);
    t.diagnostic(`errors reported during the restart: ${errors.length}`);
  });
}
