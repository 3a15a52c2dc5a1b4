// A queue's limits in words, as `spool stats` and the dashboard show them.
import type { QueueLimits } from "./backend.js";

/** A duration of a rate window: whole hours, minutes or seconds when it is one, else ms. */
function windowText(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["min", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** "50/1s, concurrency 10, 1 per group"; "" when the queue has no limit. */
export function describeLimits({ rateLimit, concurrency, groupConcurrency }: QueueLimits): string {
  return [
    rateLimit === null ? "" : `${rateLimit.max}/${windowText(rateLimit.duration)}`,
    concurrency === null ? "" : `concurrency ${concurrency}`,
    groupConcurrency === null ? "" : `${groupConcurrency} per group`,
  ]
    .filter((part) => part !== "")
    .join(", ");
}
