// spool/prometheus: the exposition, read back with a real Prometheus text parser.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Counter, Registry } from "prom-client";
import { collectMetrics } from "../../src/prometheus.js";
import { parseExposition, sampleValue } from "../helpers/prometheus-text.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

export function metricsPrometheus(b: BackendFixture): void {
  describe("metrics: Prometheus", () => {
    test("gauges read the store, counters and histograms report this process", T, async (t) => {
      const { spool } = await fresh(b, t);
      const registry = new Registry();
      collectMetrics(spool, { registry });
      const q = spool.queue<number>("emails");
      await q.addBatch([1, 2, 3]);
      await q.add(4, { delay: 60_000 });
      await q.add(5, { maxAttempts: 1 });
      let settled = 0;
      const worker = q.process((job) => {
        if (job.payload === 5) throw new Error("no");
      });
      worker.on("completed", () => settled++);
      worker.on("failed", () => settled++);
      await waitFor("four jobs settled", () => settled === 4);
      await worker.stop();
      await q.add(6);

      const text = await registry.metrics();
      const m = parseExposition(text);
      assert.equal(m.get("spool_jobs")?.type, "GAUGE");
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "completed" }), 3);
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "dead" }), 1);
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "delayed" }), 1);
      assert.equal(sampleValue(m, "spool_jobs", { queue: "emails", state: "pending" }), 1);
      assert.equal(sampleValue(m, "spool_queue_paused", { queue: "emails" }), 0);
      assert.ok(sampleValue(m, "spool_oldest_pending_age_seconds", { queue: "emails" }) >= 0);
      for (const [name, value] of [
        ["spool_jobs_added_total", 6],
        ["spool_jobs_completed_total", 3],
        ["spool_jobs_failed_total", 1],
        ["spool_jobs_retried_total", 0],
        ["spool_jobs_dead_total", 1],
        ["spool_lease_lost_total", 0],
      ] as const) {
        assert.equal(m.get(name)?.type, "COUNTER", name);
        assert.equal(sampleValue(m, name, { queue: "emails" }), value, name);
      }
      for (const name of ["spool_job_wait_seconds", "spool_job_run_seconds"]) {
        const family = m.get(name);
        assert.equal(family?.type, "HISTOGRAM", name);
        // The parser folds a labelled histogram's buckets into one sample (and drops its labels,
        // count and sum): with one queue, "+Inf" is that queue's count.
        const buckets = family?.metrics[0]?.buckets ?? {};
        assert.equal(Number(buckets["+Inf"]), 4, `${name} observed every run`);
        const bounds = Object.keys(buckets)
          .filter((le) => le !== "+Inf")
          .map(Number);
        assert.ok(bounds.includes(0.001) && bounds.includes(3600), `${name} buckets in seconds`);
      }
    });

    test("a prefix names every metric; the returned function removes them", T, async (t) => {
      const { spool } = await fresh(b, t);
      const registry = new Registry();
      const remove = collectMetrics(spool, { registry, prefix: "app_" });
      await spool.queue("q").add(1);
      const m = parseExposition(await registry.metrics());
      assert.equal(sampleValue(m, "app_jobs", { queue: "q", state: "pending" }), 1);
      assert.ok([...m.keys()].every((name) => name.startsWith("app_")));
      remove();
      assert.equal((await registry.metrics()).trim(), "");
      await expectCode(
        () => collectMetrics(spool, { registry, prefix: "bad prefix" }),
        "INVALID_ARGUMENT",
        "prefix",
      );
      await expectCode(
        () => collectMetrics(spool, { registry, prefix: null as unknown as string }),
        "INVALID_ARGUMENT",
        "prefix",
      );
    });

    test("a queue handle alone adds no series", T, async (t) => {
      const { spool } = await fresh(b, t);
      const registry = new Registry();
      collectMetrics(spool, { registry });
      for (let i = 0; i < 20; i++) spool.queue(`handle-${i}`);
      assert.doesNotMatch(await registry.metrics(), /handle-/);
    });

    test("a registry that already holds one of the names gets none of them", T, async (t) => {
      const { spool } = await fresh(b, t);
      const registry = new Registry();
      registry.registerMetric(
        new Counter({ name: "spool_jobs_dead_total", help: "someone else's", registers: [] }),
      );
      await expectCode(
        () => collectMetrics(spool, { registry }),
        "INVALID_ARGUMENT",
        "spool_jobs_dead_total",
      );
      assert.deepEqual(
        registry.getMetricsAsArray().map((m) => m.name),
        ["spool_jobs_dead_total"],
      );
    });
  });
}
