/*
 * What both backends decide alike, written once so the two cannot drift: the CLOSED error, the
 * shape of a schema migration, what a lapsed lease and a ttl do to a job (as SQL both dialects
 * run), and how often claims sweep for them (the rescue). Each backend imports this module and
 * never the other backend.
 */
import { SpoolError } from "../errors.js";

/** What every call on a closed backend rejects with (the core's own words for a closed Spool). */
export function closedError(cause?: unknown): SpoolError {
  return new SpoolError("CLOSED", "this Spool is closed: open it again to use it", { cause });
}

/** A store behind this Spool's schema, opened with `migrate: false`: left as it was, and why. */
export function olderStoreError(store: string, version: number, latest: number): SpoolError {
  return new SpoolError(
    "STORAGE",
    `${store} was written by an older Spool (schema version ${version}; this one needs ${latest}) and was opened with migrate: false, so it was left as it was: open it once from the application with this Spool version to upgrade it`,
  );
}

/**
 * One step of a backend's schema, compiled in (nothing reads .sql files at run time). Versions
 * count from 1 with no gap; a released migration never changes: a new one is appended instead.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The version a schema has once every migration ran. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/*
 * A job's ttl. A job not started within `ttlMs` of its run time can never run: it becomes dead
 * with "expired". Its deadline (`expires_at`) is set on insert and stays while the job was never
 * started, even through a claim: a job claimed and handed back unstarted (a worker's prefetch)
 * is still bound by it. Every transition that means the job started clears it (a retry after a
 * failure, a started job's release, a lapsed lease), and so does every transition to dead.
 * No claim or take ever serves a job past its deadline, even before the rescue made it dead.
 */

/** The deadline of a job that runs at `runAt` with a ttl of `ttlMs` (null: none). */
export function expiryDeadline(runAt: number, ttlMs: number | null): number | null {
  return ttlMs === null ? null : runAt + ttlMs;
}

/**
 * SQL: the SET list that makes a never-started job past its deadline dead. `now` is the
 * dialect's current time in the column's type (`:now` ms on SQLite, `now()` on PostgreSQL).
 */
export const expiredSet = (now: string) =>
  `state = 'dead', last_error = 'expired', finished_at = ${now}, expires_at = NULL`;

/**
 * SQL: the SET list that settles a lapsed lease: back to pending while attempts remain, dead
 * otherwise; either way "lease expired" is its last error. The holder may have started the job,
 * so it has met its ttl.
 */
export const lapsedSet = (
  now: string,
) => `state = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'dead' END,
    last_error = 'lease expired',
    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ${now} END,
    lease_until = NULL, expires_at = NULL`;

/**
 * How often a busy queue's claims also rescue: return lapsed leases to pending (or dead) and
 * make jobs past their ttl dead. Claims that find work run the rescue at most this often per
 * queue, so a busy queue does not pay for those scans on every claim, and a lapsed job waits
 * that much longer at worst; a claim that comes back short rescues at once (each backend's
 * `claim` says how), so a lapsed job is never left behind an idle queue.
 */
const RESCUE_EVERY_MS = 250;

/** When each queue was last rescued by this process: only a throttle, on whatever clock it is given. */
export class RescueThrottle {
  private readonly last = new Map<string, number>();

  /** True when `queue` was not rescued in the last RESCUE_EVERY_MS. */
  isDue(queue: string, now: number): boolean {
    const last = this.last.get(queue);
    return last === undefined || now - last >= RESCUE_EVERY_MS;
  }

  /** Records a rescue of `queue` at `now`. */
  ran(queue: string, now: number): void {
    this.last.set(queue, now);
  }
}
