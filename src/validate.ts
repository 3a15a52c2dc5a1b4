// Argument checks shared by every public entry point: each throws a SpoolError whose message
// names the offending value and what is allowed, before anything reaches storage.
import { SpoolError, show } from "./errors.js";
import { JOB_STATES, type JobState } from "./types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function checkName(name: unknown, what = "queue name"): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new SpoolError(
      "INVALID_NAME",
      `invalid ${what} ${show(name)}: use 1–128 characters of A–Z a–z 0–9 _ . : -, starting with a letter or digit`,
    );
  }
  return name;
}

function invalid(what: string, value: unknown, allowed: string): SpoolError {
  return new SpoolError("INVALID_ARGUMENT", `${what} must be ${allowed}, got ${show(value)}`);
}

/**
 * Rounds a validated duration or time up to whole ms: storage keeps whole ms, and rounding up
 * never makes a delay, a lease or a timeout shorter than asked. Every duration is normalised
 * here, once, so no fraction reaches a backend (`+ 0` turns -0 into 0).
 */
export function wholeMs(value: number): number {
  return Math.ceil(value) + 0;
}

/**
 * The longest duration (ms, about 31 700 years): now plus it is still a valid Date and a safe
 * integer, so a huge `delay` is refused here instead of failing in storage.
 */
export const MAX_DURATION_MS = 1e15;
/**
 * The times a `runAt` may name, in ms since the epoch: from about 1200 BC to about year 128 700.
 * Every store holds any of them plus any duration (PostgreSQL's timestamps end in 294 276 AD
 * and begin in 4713 BC), so an odd time is refused here, never half-stored.
 */
const MIN_TIME_MS = -1e14;
const MAX_TIME_MS = 4e15;
/** The largest count a store keeps in its integer columns (attempts, tokens: PostgreSQL int4). */
export const MAX_COUNT = 2_147_483_647;

/**
 * A finite number ≥ 0 (ms durations: delay, timeout, retryIn, olderThan, retention, backoff
 * delays), rounded up to whole ms: `delay: 1.5` waits 2 ms.
 */
export function checkDuration(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_DURATION_MS) {
    throw invalid(what, value, `a number of ms from 0 to ${MAX_DURATION_MS}`);
  }
  return wholeMs(value);
}

/**
 * A duration that must leave room to act (a lease, ttl or timeout of 0 would expire at once),
 * rounded up to whole ms: `lease: 1000.5` holds the job for 1001 ms.
 */
export function checkPositiveDuration(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > MAX_DURATION_MS) {
    throw invalid(what, value, `a number of ms > 0 and ≤ ${MAX_DURATION_MS}`);
  }
  return wholeMs(value);
}

/** A point in time: a valid Date or finite ms since the epoch, rounded up to whole ms. */
export function checkTime(value: unknown, what: string): number {
  const at = value instanceof Date ? value.getTime() : value;
  if (typeof at !== "number" || !Number.isFinite(at) || at < MIN_TIME_MS || at > MAX_TIME_MS) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${what} must be a Date or ms since the epoch from ${MIN_TIME_MS} to ${MAX_TIME_MS}, got ${show(value)}`,
    );
  }
  return wholeMs(at);
}

export function checkInteger(
  value: unknown,
  what: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(
      what,
      value,
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
    );
  }
  return value;
}

export function checkSafeInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalid(what, value, "a safe integer");
  return value;
}

export function checkId(value: unknown): number {
  return checkInteger(value, "job id", 1);
}

export function checkState(value: unknown): JobState {
  if (typeof value !== "string" || !JOB_STATES.includes(value as JobState)) {
    throw invalid("state", value, JOB_STATES.map((s) => `"${s}"`).join(", "));
  }
  return value as JobState;
}

/**
 * An options object, as a snapshot of its own fields: each getter runs once, here, so a value
 * checked is the value used (a getter cannot answer one thing to the check and another later).
 */
export function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(what, value, "an object");
  }
  return { ...(value as Record<string, unknown>) };
}

/** Rejects option names that are not known: a typo must not silently change nothing. */
export function checkKnownKeys(
  options: Record<string, unknown>,
  known: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `unknown ${what} option ${show(key)}; known options: ${known.join(", ")}`,
      );
    }
  }
}

export function checkAbortSignal(value: unknown, what: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalid(what, value, "an AbortSignal");
  return value;
}

/**
 * Text stored in an indexed column and compared exactly (a dedupe key, a group), refused alike
 * on every backend when one store could not keep it exactly: PostgreSQL text holds no NUL and
 * turns a lone surrogate into U+FFFD (two values would become one), and its index takes about
 * 2.7 kB per entry.
 */
export function checkIndexedText(value: unknown, what: string): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > 1024 ||
    Buffer.byteLength(value) > 2048 ||
    value.includes("\0") ||
    /[\uD800-\uDFFF]/u.test(value) // a lone surrogate (a pair is one code point here)
  ) {
    throw invalid(what, value, "well-formed text of 1–1024 characters (2048 bytes in UTF-8) without NUL");
  }
  return value;
}

/** The most dependencies one job may have: enough for any fan-in, bounded for one statement. */
export const MAX_DEPENDENCIES = 10_000;

/**
 * A `dependsOn` list: job ids (integers ≥ 1), at most MAX_DEPENDENCIES; repeats count once.
 * Returned ascending, so a job's dependencies read back in the order stored.
 */
export function checkDependsOn(value: unknown): number[] {
  if (!Array.isArray(value)) throw invalid("dependsOn", value, "an array of job ids");
  if (value.length > MAX_DEPENDENCIES) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `dependsOn must name at most ${MAX_DEPENDENCIES} jobs, got ${value.length}`,
    );
  }
  const ids = new Set<number>();
  for (const id of value) {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
      throw invalid("each id in dependsOn", id, "a job id (an integer ≥ 1)");
    }
    ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}
