/*
 * Small measuring helpers shared by the quick benchmark and the peer comparison: wall-clock
 * time that two processes agree on, medians and percentiles, and the payloads every subject
 * is given so that all of them do the same work.
 */

/** ms since the epoch with sub-millisecond precision; comparable across processes on one host. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets timers and I/O callbacks run inside a long synchronous loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The value at quantile `q` (0..1) of `values`, by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** What every subject enqueues: `t` carries the send time for latency runs, `pad` the bulk. */
export interface BenchPayload {
  i: number;
  t: number;
  pad: string;
}

// 60 characters of padding make the JSON of a payload about 100 bytes, the size.
const PAD = "lorem-ipsum-dolor-sit-amet-consectetur-adipiscing-elit-sed-d";

export function smallPayload(i: number, t = 0): BenchPayload {
  return { i, t, pad: PAD };
}

/** A payload whose JSON is about `bytes` long. */
export function bigPayload(i: number, bytes: number): BenchPayload {
  return { i, t: 0, pad: "x".repeat(Math.max(0, bytes - 40)) };
}

/** Formats a number for a table: thousands separators, fewer decimals as it grows. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
