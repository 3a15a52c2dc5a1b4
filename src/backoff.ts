// Retry delays. A job's backoff is stored with it as JSON so any process that fails it applies
// the same policy; a function cannot be stored and applies only where the queue object holding
// it fails the job.
import { SpoolError, show } from "./errors.js";
import type { Backoff } from "./types.js";
import { checkDuration, MAX_DURATION_MS, wholeMs } from "./validate.js";

export const DEFAULT_BACKOFF = { type: "exponential", delay: 1000, max: 3_600_000 } as const;

export type BackoffFn = Extract<Backoff, (attempt: number, error: unknown) => number>;
type StoredBackoff = Exclude<Backoff, BackoffFn>;

/**
 * Checks a backoff option; returns its stored JSON (delays rounded up to whole ms), or null for
 * a function (not storable: the caller keeps it in memory).
 */
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

/**
 * Whole ms to wait before the next attempt after `attempt` failed, by the one precedence rule
 * every failing path uses: the first of `choices` that is given wins (the job's own backoff,
 * then the queue's default), else {@link DEFAULT_BACKOFF}. A function's answer is rounded up to
 * whole ms; one that is not a finite number ≥ 0 means 0 (retry at once), and a function that
 * throws gives way to the next choice.
 */
export function backoffDelay(
  choices: ReadonlyArray<BackoffFn | string | null | undefined>,
  attempt: number,
  error: unknown,
): number {
  for (const [i, choice] of choices.entries()) {
    if (choice === null || choice === undefined) continue;
    if (typeof choice !== "function") return policyDelay(JSON.parse(choice) as StoredBackoff, attempt);
    let ms: unknown;
    try {
      ms = choice(attempt, error);
    } catch {
      return backoffDelay(choices.slice(i + 1), attempt, error);
    }
    // Capped like any duration: a huge answer must not make the failure itself unstorable.
    return typeof ms === "number" && Number.isFinite(ms) && ms >= 0
      ? wholeMs(Math.min(ms, MAX_DURATION_MS))
      : 0;
  }
  return policyDelay(DEFAULT_BACKOFF, attempt);
}

function policyDelay(policy: StoredBackoff, attempt: number): number {
  if (policy.type === "fixed") return wholeMs(policy.delay);
  const base = policy.delay ?? DEFAULT_BACKOFF.delay;
  const max = policy.max ?? DEFAULT_BACKOFF.max;
  return wholeMs(Math.min(max, base * 2 ** Math.max(0, attempt - 1)));
}
