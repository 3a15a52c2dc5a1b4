// Cron schedules as users see them: the options of `spool.schedule`, their validation, and the
// stored row both ways (what a schedule stores, what `spool.schedules()` returns). The loop that
// fires them is scheduler.ts; which fires are due is cron.ts's.
import { checkAddOptions } from "./add-options.js";
import type { NewJob, NewSchedule, StoredSchedule } from "./backend.js";
import { resolveCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { CATCH_UPS, type CatchUp, nextFire, parseCron } from "./cron.js";
import { SpoolError, show } from "./errors.js";
import type { Backoff } from "./types.js";
import { checkKnownKeys, checkName, checkObject } from "./validate.js";

export type { CatchUp } from "./cron.js";

/** A backoff a store can keep (a function cannot be: no process but this one has it). */
export type StoredBackoff = Exclude<Backoff, (...args: never[]) => unknown>;

/**
 * Options of `spool.schedule`: where each fire's job goes and how it is added. Every
 * AddOptions field applies but `key` (each fire's job is keyed `<name>@<fire time ISO>`),
 * `delay` and `runAt` (a fired job runs at its fire time) and a function `backoff`.
 */
export interface ScheduleOptions<T = unknown> {
  /** The queue each fire adds a job to. */
  queue: string;
  /** Every fired job's payload (encoded with the default codec: JSON, or bytes). @default null */
  payload?: T;
  /** The IANA time zone the cron is read in. @default "UTC" */
  tz?: string;
  /**
   * Fires missed while no process ran a scheduler: "none" skips them, "last" enqueues one job
   * for the latest, "all" one per missed fire (the latest 1000 at most). @default "last"
   */
  catchUp?: CatchUp;
  /** @default 0 */
  priority?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** The jobs' backoff; without one, the consuming queue's default applies. */
  backoff?: StoredBackoff;
  /** A fired job not started within this many ms of its fire time becomes dead ("expired"). */
  ttl?: number;
  /** Each fired job's group (see AddOptions.group). */
  group?: string;
}

/** A stored schedule, as `spool.schedules()` lists it. */
export interface ScheduleInfo {
  name: string;
  cron: string;
  queue: string;
  tz: string;
  catchUp: CatchUp;
  /** The next fire not yet enqueued (in the past while no scheduler runs). */
  next: Date;
  /** The latest fire a job was enqueued for, or null. */
  last: Date | null;
  payload: unknown;
  priority: number;
  maxAttempts: number;
  backoff?: StoredBackoff;
  ttl?: number;
  group?: string;
  createdAt: Date;
  updatedAt: Date;
}

const KEYS = ["queue", "payload", "tz", "catchUp", "priority", "maxAttempts", "backoff", "ttl", "group"];
const REFUSED: Record<string, string> = {
  key: "each fired job is keyed <name>@<fire time>",
  delay: "a fired job runs at its fire time",
  runAt: "a fired job runs at its fire time",
};

/** The stored add options of a schedule's jobs. */
interface JobOptions {
  priority: number;
  maxAttempts: number;
  backoff: string | null;
  ttlMs: number | null;
  /** Absent in schedules stored before groups: no group. */
  group?: string | null;
}

/** The IANA zone `tz` as Intl names it ("utc" → "UTC"), or INVALID_ARGUMENT. */
function checkZone(tz: unknown): string {
  if (typeof tz === "string" && tz.length > 0 && tz.length <= 64 && !tz.includes("\0")) {
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      // refused below
    }
  }
  throw new SpoolError(
    "INVALID_ARGUMENT",
    `tz must be an IANA time zone such as "Europe/Berlin", got ${show(tz)}`,
  );
}

/** Checks `spool.schedule`'s arguments; the row to store, but for its next_at. */
export function checkSchedule(
  name: unknown,
  cron: unknown,
  options: unknown,
  maxPayloadBytes: number,
): { row: Omit<NewSchedule, "nextAt">; parsed: ReturnType<typeof parseCron> } {
  checkName(name, "schedule name");
  if (options === undefined) throw new SpoolError("INVALID_ARGUMENT", "schedule needs options with a queue");
  const o = checkObject(options, "schedule options");
  for (const [key, why] of Object.entries(REFUSED)) {
    if (o[key] !== undefined)
      throw new SpoolError("INVALID_ARGUMENT", `schedule options cannot set ${key}: ${why}`);
  }
  checkKnownKeys(o, KEYS, "schedule");
  const queue = checkName(o.queue);
  const tz = o.tz === undefined ? "UTC" : checkZone(o.tz);
  const catchUp = o.catchUp === undefined ? "last" : o.catchUp;
  if (!CATCH_UPS.includes(catchUp as CatchUp)) {
    throw new SpoolError("INVALID_ARGUMENT", `catchUp must be "none", "last" or "all", got ${show(catchUp)}`);
  }
  if (typeof o.backoff === "function") {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      "a schedule's backoff must be stored: give { type, delay }, not a function",
    );
  }
  const { payload: _p, tz: _t, catchUp: _c, queue: _q, ...add } = o;
  const given = checkAddOptions(add, "schedule options", KEYS);
  const jobOptions: JobOptions = {
    priority: given.priority ?? 0,
    maxAttempts: given.maxAttempts ?? 3,
    backoff: given.backoff ?? null,
    ttlMs: given.ttlMs ?? null,
    group: given.group ?? null,
  };
  const { bytes, format } = resolveCodec(undefined).encode(o.payload === undefined ? null : o.payload);
  if (bytes.byteLength > maxPayloadBytes) {
    throw new SpoolError(
      "PAYLOAD_TOO_LARGE",
      `the schedule's payload is ${bytes.byteLength} bytes; maxPayloadBytes allows ${maxPayloadBytes}`,
    );
  }
  const parsed = parseCron(cron, tz);
  const row = {
    name: name as string,
    queue,
    // Stored with single spaces: the same cron written with other spacing keeps its next fire.
    cron: (cron as string).trim().split(/\s+/).join(" "),
    tz,
    catchUp: catchUp as string,
    payload: bytes,
    format,
    options: JSON.stringify(jobOptions),
  };
  return { row, parsed };
}

/** Stores the schedule; its next_at, when new or its cron or tz changed, is the next fire. */
export async function upsertSchedule(ctx: SpoolContext, name: unknown, cron: unknown, options: unknown) {
  const { row, parsed } = checkSchedule(name, cron, options, ctx.maxPayloadBytes);
  const now = await ctx.backend.schedules.now();
  await ctx.backend.schedules.upsert({ ...row, nextAt: nextFire(parsed, now) });
}

/** The jobs one fire decision adds: each keyed by the schedule's name and its fire time. */
export function firedJobs(s: StoredSchedule, fires: readonly number[]): NewJob[] {
  const o = JSON.parse(s.options) as JobOptions;
  return fires.map((at) => ({
    payload: s.payload,
    format: s.format,
    priority: o.priority,
    maxAttempts: o.maxAttempts,
    key: fireKey(s.name, at),
    backoff: o.backoff,
    delayMs: 0,
    runAt: at,
    ttlMs: o.ttlMs,
    group: o.group ?? null,
  }));
}

/** The dedupe key of a schedule's job for the fire at `at`. */
export function fireKey(name: string, at: number): string {
  return `${name}@${new Date(at).toISOString()}`;
}

export function toScheduleInfo(s: StoredSchedule): ScheduleInfo {
  const o = JSON.parse(s.options) as JobOptions;
  let payload: unknown;
  try {
    payload = resolveCodec(undefined).decode(s.payload, s.format);
  } catch {
    payload = Buffer.from(s.payload);
  }
  return {
    name: s.name,
    cron: s.cron,
    queue: s.queue,
    tz: s.tz,
    catchUp: s.catchUp as CatchUp,
    next: new Date(s.nextAt),
    last: s.lastAt === null ? null : new Date(s.lastAt),
    payload,
    priority: o.priority,
    maxAttempts: o.maxAttempts,
    ...(o.backoff === null ? {} : { backoff: JSON.parse(o.backoff) as StoredBackoff }),
    ...(o.ttlMs === null ? {} : { ttl: o.ttlMs }),
    ...(o.group == null ? {} : { group: o.group }),
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  };
}
