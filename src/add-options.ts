// The options a job is added with: checked once here (for `spool.queue`'s defaults and for each
// add), and overlaid on the queue's defaults into what is stored with the job.
import { type BackoffFn, checkBackoff } from "./backoff.js";
import { SpoolError } from "./errors.js";
import { LIMIT_KEYS } from "./limits.js";
import { DEFAULT_RETENTION } from "./settings.js";
import type { Retention } from "./types.js";
import {
  checkDependsOn,
  checkDuration,
  checkIndexedText,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPositiveDuration,
  checkSafeInteger,
  checkTime,
  MAX_COUNT,
} from "./validate.js";

/** The options a queue's defaults may state (every add option but `dependsOn`). */
const DEFAULT_KEYS = ["priority", "delay", "runAt", "maxAttempts", "backoff", "key", "ttl", "group"] as const;
const ADD_KEYS = [...DEFAULT_KEYS, "dependsOn"] as const;
export const QUEUE_KEYS = [...DEFAULT_KEYS, "lease", "codec", "retention", "schema", ...LIMIT_KEYS] as const;

/** AddOptions after validation, as stored with each job. */
export interface ResolvedAdd {
  priority: number;
  delayMs: number;
  runAt: number | null;
  maxAttempts: number;
  backoff: string | null;
  key: string | null;
  ttlMs: number | null;
  /** The job's group, or null. */
  group: string | null;
  /** The ids it depends on, ascending, or null. */
  dependsOn: readonly number[] | null;
}

/** Checked add options; a function backoff is kept aside in `backoffFn` (it cannot be stored). */
type CheckedAdd = Partial<ResolvedAdd> & { backoffFn?: BackoffFn };

export function checkAddOptions(raw: unknown, what: string, allowed: readonly string[]): CheckedAdd {
  const o = checkObject(raw, what);
  checkKnownKeys(o, allowed, what);
  const out: CheckedAdd = {};
  if (o.priority !== undefined) out.priority = checkSafeInteger(o.priority, "priority");
  if (o.delay !== undefined && o.runAt !== undefined) {
    throw new SpoolError("INVALID_ARGUMENT", "give either delay or runAt, not both");
  }
  if (o.delay !== undefined) {
    out.delayMs = checkDuration(o.delay, "delay");
    out.runAt = null;
  }
  if (o.runAt !== undefined) {
    out.runAt = checkTime(o.runAt, "runAt");
    out.delayMs = 0;
  }
  if (o.maxAttempts !== undefined) out.maxAttempts = checkInteger(o.maxAttempts, "maxAttempts", 1, MAX_COUNT);
  if (typeof o.backoff === "function") out.backoffFn = o.backoff as BackoffFn;
  else if (o.backoff !== undefined) out.backoff = checkBackoff(o.backoff);
  if (o.key !== undefined) out.key = checkIndexedText(o.key, "key");
  if (o.ttl !== undefined) out.ttlMs = checkPositiveDuration(o.ttl, "ttl");
  if (o.group !== undefined) out.group = checkIndexedText(o.group, "group");
  if (o.dependsOn !== undefined) {
    const ids = checkDependsOn(o.dependsOn);
    out.dependsOn = ids.length === 0 ? null : ids;
  }
  return out;
}

/**
 * The add defaults among a queue's options (already checked for unknown keys): the built-in
 * defaults overlaid with what the queue states, and the queue's default backoff (a function,
 * or the stored JSON of a policy).
 */
export function queueDefaults(o: Record<string, unknown>): {
  defaults: ResolvedAdd;
  backoff: BackoffFn | string | null;
} {
  const add = checkAddOptions(
    Object.fromEntries(DEFAULT_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])),
    "queue defaults",
    DEFAULT_KEYS,
  );
  return {
    defaults: {
      priority: add.priority ?? 0,
      delayMs: add.delayMs ?? 0,
      runAt: add.runAt ?? null,
      maxAttempts: add.maxAttempts ?? 3,
      backoff: add.backoff ?? null,
      key: add.key ?? null,
      ttlMs: add.ttlMs ?? null,
      group: add.group ?? null,
      dependsOn: null,
    },
    backoff: add.backoffFn ?? add.backoff ?? null,
  };
}

/** The queue's defaults overlaid with `options`; a per-add function backoff is kept aside. */
export function resolveAdd(
  defaults: ResolvedAdd,
  options: unknown,
): { add: ResolvedAdd; backoffFn?: BackoffFn } {
  const { backoffFn, ...given } = checkAddOptions(options, "add options", ADD_KEYS);
  // With a per-add function, the job stores the queue's default policy: a process without the
  // function falls back to the queue's choice, not to the built-in default.
  const o: ResolvedAdd = { ...defaults, ...given };
  if (given.delayMs !== undefined || given.runAt !== undefined) {
    o.delayMs = given.delayMs ?? 0;
    o.runAt = given.runAt ?? null;
  }
  return backoffFn === undefined ? { add: o } : { add: o, backoffFn };
}

export function checkRetention(raw: unknown): Required<Retention> {
  const o = checkObject(raw, "retention");
  checkKnownKeys(o, ["completed", "dead"], "retention");
  return {
    completed:
      o.completed === undefined
        ? DEFAULT_RETENTION.completed
        : checkDuration(o.completed, "retention.completed"),
    dead: o.dead === undefined ? DEFAULT_RETENTION.dead : checkDuration(o.dead, "retention.dead"),
  };
}
