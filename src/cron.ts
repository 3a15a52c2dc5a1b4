// Cron expressions and fire times. Parsing and the calendar are croner's (time zones, DST); what
// is Spool's is which fires a scheduler pass decides, and how catchUp treats the missed ones.
// Pure functions of (cron, stored next_at, the store's now): unit-tested without a store.
import { Cron } from "croner";
import { SpoolError, show } from "./errors.js";

export type CatchUp = "none" | "last" | "all";
export const CATCH_UPS: readonly CatchUp[] = ["none", "last", "all"];

/**
 * A fire the scheduler reaches within this many ms of its time is on time, and always enqueued;
 * one reached later was missed (nothing ran the scheduler then) and follows `catchUp`. Wide
 * enough that a busy or briefly paused process is still on time, narrow beside any downtime.
 */
export const ON_TIME_MS = 5_000;
/** `catchUp: "all"` enqueues at most this many missed fires per pass: the latest ones. */
export const CATCH_UP_MAX = 1_000;
/** Fires walked forward from next_at before jumping to the latest ones from now backwards. */
const WALK = 32;
/** The time of a schedule that will never fire again: the last instant a Date can hold. */
export const NEVER = 8_640_000_000_000_000;

const MAX_CRON_LENGTH = 256;

/** Parses a 5- or 6-field cron (or a croner nickname such as "@daily") read in `tz`. */
export function parseCron(cron: unknown, tz: string): Cron {
  if (typeof cron !== "string" || cron.length > MAX_CRON_LENGTH || /[\0\n\r]/.test(cron)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `cron must be a string of 5 or 6 fields (second minute hour day month weekday, the second optional), got ${show(cron)}`,
    );
  }
  const fields = cron.trim().split(/\s+/);
  // croner also takes an ISO date (one run at that time): not a schedule, so refused here.
  const nickname = fields.length === 1 && /^@[a-z]+$/i.test(fields[0] ?? "");
  if (!nickname && (fields.length < 5 || fields.length > 6)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `cron ${show(cron)} must have 5 or 6 fields (second minute hour day month weekday, the second optional)`,
    );
  }
  let parsed: Cron;
  try {
    parsed = new Cron(cron, { timezone: tz, mode: "5-or-6-parts" });
    parsed.nextRun(); // a zone croner cannot use fails here, not at the first fire
  } catch (cause) {
    throw new SpoolError("INVALID_ARGUMENT", `cron ${show(cron)} is not valid: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (parsed.nextRun() === null) {
    throw new SpoolError("INVALID_ARGUMENT", `cron ${show(cron)} never fires (no such date after now)`);
  }
  return parsed;
}

/** The first fire strictly after `after` (ms), or NEVER. */
export function nextFire(cron: Cron, after: number): number {
  return cron.nextRun(new Date(after))?.getTime() ?? NEVER;
}

/** What one pass decides for a due schedule: the fires to enqueue now, and the new next_at. */
export interface FireDecision {
  /** Fire times (ms) to enqueue a job for, oldest first. */
  fires: number[];
  /** The first fire after `now`: where next_at moves. */
  next: number;
}

/**
 * The fires of `cron` from `nextAt` (the earliest not yet decided, itself a fire) up to and
 * including `now`, and which of them to enqueue: every on-time one (within ON_TIME_MS of now);
 * of the missed ones, none ("none"), the latest ("last"), or all up to CATCH_UP_MAX, the latest
 * ones ("all"). Every fire up to `now` is decided by this one pass: next_at moves past them all.
 */
export function decideFires(cron: Cron, nextAt: number, now: number, catchUp: CatchUp): FireDecision {
  const next = nextFire(cron, now);
  if (nextAt > now) return { fires: [], next: nextAt };
  let due = [nextAt];
  for (let at = nextAt; due.length <= WALK; ) {
    at = nextFire(cron, at);
    if (at > now) break;
    due.push(at);
  }
  if (due.length > WALK) {
    // Many missed (a long downtime): count back from now rather than walk up from next_at.
    const latest = cron.previousRuns(CATCH_UP_MAX, new Date(now + 1)).map((d) => d.getTime());
    due = latest.filter((at) => at >= nextAt).reverse();
  }
  const missed = due.filter((at) => now - at > ON_TIME_MS);
  const onTime = due.filter((at) => now - at <= ON_TIME_MS);
  if (catchUp === "all") return { fires: due.slice(-CATCH_UP_MAX), next };
  const last = catchUp === "last" && missed.length > 0 ? [missed[missed.length - 1] as number] : [];
  return { fires: [...last, ...onTime], next };
}
