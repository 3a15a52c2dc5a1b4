// The latency histogram behind spool.metrics(): fixed size, percentiles within a bucket's width.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LatencyHistogram } from "../../src/metrics/histogram.js";

const within = (actual: number | null, expected: number, what: string) =>
  assert.ok(
    actual !== null && Math.abs(actual - expected) <= expected * 0.05,
    `${what}: expected ≈${expected} (±5 %), got ${actual}`,
  );

test("percentiles of 1…10 000 ms are within 5 %", () => {
  const h = new LatencyHistogram();
  for (let ms = 1; ms <= 10_000; ms++) h.observe(ms);
  const { p50, p95, p99 } = h.percentiles();
  within(p50, 5000, "p50");
  within(p95, 9500, "p95");
  within(p99, 9900, "p99");
});

test("empty is null; zero, negative (skew) and huge values are kept in range", () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.percentiles(), { p50: null, p95: null, p99: null });
  h.observe(-5);
  h.observe(0);
  assert.equal(h.quantile(1), 0);
  h.observe(1e15);
  assert.equal(h.quantile(1), 1e15, "clamped to the largest value seen");
  assert.equal(h.count, 3);
});

test("merging adds the observations; a million of them take no more memory", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  for (let i = 0; i < 1_000_000; i++) a.observe(10);
  b.observe(1000);
  a.merge(b);
  assert.equal(a.count, 1_000_001);
  within(a.quantile(0.5), 10, "p50");
  assert.equal(a.quantile(1), 1000);
  // Fixed size: the buckets are one typed array, whatever was observed.
  const sizes = Object.values(a)
    .filter((v) => v instanceof Float64Array)
    .map((v) => v.length);
  assert.deepEqual(sizes, [321]);
});
