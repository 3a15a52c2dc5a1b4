// Retry delays. A job's backoff is stored with it as JSON so any process that fails it applies
// the same policy; a function cannot be stored and applies only where the queue holding it fails.
import { SpoolError, show } from "./errors.js";
import type { Backoff } from "./types.js";
import { checkDuration } from "./validate.js";

export const DEFAULT_BACKOFF = { type: "exponential", delay: 1000, max: 3_600_000 } as const;

type StoredBackoff = Exclude<Backoff, (attempt: number, error: unknown) => number>;

/** Checks a backoff option; returns its stored JSON, or null for a function (not storable). */
export function checkBackoff(value: unknown): string | null {
  if (typeof value === "function") return null;
  if (value === null || typeof value !== "object") {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `backoff must be { type: "exponential" | "fixed", delay, max? } or a function, got ${show(value)}`,
    );
  }
  const b = value as Record<string, unknown>;
  if (b.type === "exponential") {
    const stored: StoredBackoff = {
      type: "exponential",
      delay: b.delay === undefined ? DEFAULT_BACKOFF.delay : checkDuration(b.delay, "backoff.delay"),
      max: b.max === undefined ? DEFAULT_BACKOFF.max : checkDuration(b.max, "backoff.max"),
    };
    return JSON.stringify(stored);
  }
  if (b.type === "fixed") {
    return JSON.stringify({ type: "fixed", delay: checkDuration(b.delay, "backoff.delay") });
  }
  throw new SpoolError(
    "INVALID_ARGUMENT",
    `backoff.type must be "exponential" or "fixed", got ${show(b.type)}`,
  );
}

/** ms to wait before the next attempt after `attempt` failed. */
export function retryDelay(
  backoff: ((attempt: number, error: unknown) => number) | string | null,
  attempt: number,
  error: unknown,
): number {
  if (typeof backoff === "function") {
    const ms = backoff(attempt, error);
    return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : 0;
  }
  const policy: StoredBackoff = backoff === null ? DEFAULT_BACKOFF : (JSON.parse(backoff) as StoredBackoff);
  if (policy.type === "fixed") return policy.delay;
  const base = policy.delay ?? DEFAULT_BACKOFF.delay;
  const max = policy.max ?? DEFAULT_BACKOFF.max;
  return Math.min(max, base * 2 ** Math.max(0, attempt - 1));
}
