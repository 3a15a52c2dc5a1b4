/*
 * Argument parsers for commander: each throws InvalidArgumentError with what would be right, so
 * a bad number or duration is reported as bad usage (exit 2) naming the offending value.
 */
import { InvalidArgumentError } from "commander";
import { JOB_STATES, type JobState } from "../types.js";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * "500ms", "30s", "1.5m", "1h", "2d" or a bare number of milliseconds → ms, rounded up to whole
 * ms as the library rounds its durations: "0.4" is 1 ms, never 0 (which a lease refuses).
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(match?.[2] || "ms").toLowerCase()];
  if (!match || unit === undefined) {
    throw new InvalidArgumentError(`"${text}" is not a duration; use e.g. 500ms, 30s, 15m, 1h or 2d.`);
  }
  const ms = Math.ceil(Number(match[1]) * unit);
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`"${text}" is too long a duration.`);
  return ms;
}

/**
 * A duration above 0 (a lease, a timeout): refused here, quoting the text as given ("0s"), not
 * by the library once it is a bare 0.
 */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === 0) throw new InvalidArgumentError(`"${text}" is no time at all; use e.g. 500ms or 30s.`);
  return ms;
}

/** A safe integer, possibly negative (priorities). */
export function parseInteger(text: string): number {
  const n = /^\s*[-+]?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`"${text}" is not an integer; use e.g. 10 or -5.`);
  return n;
}

/** An integer ≥ 1 (limits, concurrency, job ids). */
export function parsePositiveInt(text: string): number {
  const n = /^\s*\+?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`"${text}" is not a whole number of 1 or more.`);
  }
  return n;
}

/** An integer ≥ 0 (counts to skip). */
export function parseCount(text: string): number {
  const n = /^\s*\+?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`"${text}" is not a whole number of 0 or more.`);
  return n;
}

/** A TCP port, 0–65535 (0 picks a free one). */
export function parsePort(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n > 65_535)
    throw new InvalidArgumentError(`"${text}" is not a port (0–65535).`);
  return n;
}

export function parseState(text: string): JobState {
  if ((JOB_STATES as readonly string[]).includes(text)) return text as JobState;
  throw new InvalidArgumentError(`"${text}" is not a job state; use one of ${JOB_STATES.join(", ")}.`);
}
