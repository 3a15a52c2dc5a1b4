// The claim of a limited queue (a rate limit, a global or group concurrency, or groups), run
// inside the writer's IMMEDIATE transaction after the one-statement CLAIM found the queue
// limited. Everything is derived from the rows, in that transaction: the starts in the window,
// the reserved jobs of the queue and of each group. No counter is kept that could drift.
import type { LimitsPatch, NewJob } from "../../backend.js";
import { type LimitState, limitedDueIn } from "../limits-wait.js";
import * as L from "./limited-queries.js";
import { type PickedRow, toClaimOrder } from "./rows.js";
import type { Store } from "./store.js";

interface LimitsRow {
  paused: number;
  limited: number;
  rate_max: number | null;
  rate_duration: number | null;
  concurrency: number | null;
  group_concurrency: number | null;
  grouped: number;
  group_cursor: string | null;
}

function limitsRow(store: Store, queue: string): LimitsRow | undefined {
  return store.sql(L.QUEUE_LIMITS).get({ queue }) as LimitsRow | undefined;
}

/** What a limited claim found of its queue's limits: grouped, and bound by nothing else. */
export interface LimitsSeen {
  grouped: boolean;
  onlyGrouped: boolean;
}

/**
 * Claims up to `limit` jobs of a limited queue: as many as its limits allow now, in claim
 * order, or for a grouped queue one head per group per pass, round-robin from the group after
 * the last one served. Null when the queue is not limited (or paused): the plain claim's answer
 * stands.
 */
export function limitedClaim(
  store: Store,
  cursors: GroupCursors,
  queue: string,
  limit: number,
  now: number,
  leaseUntil: number,
  seen?: LimitsSeen,
): PickedRow[] | null {
  const row = limitsRow(store, queue);
  if (row === undefined || row.paused !== 0 || row.limited === 0) return null;
  if (seen !== undefined) {
    seen.grouped = row.grouped !== 0;
    seen.onlyGrouped =
      seen.grouped && row.rate_max === null && row.concurrency === null && row.group_concurrency === null;
  }
  let allowed = limit;
  if (row.rate_max !== null && row.rate_duration !== null) {
    const before = now - row.rate_duration;
    store.sql(L.STARTS_DROP).run({ queue, before });
    const { used } = store.sql(L.STARTS_IN_WINDOW).get({ queue, before }) as { used: number };
    allowed = Math.min(allowed, row.rate_max - used);
  }
  if (row.concurrency !== null) {
    const { n } = store.sql(L.RESERVED_COUNT).get({ queue }) as { n: number };
    allowed = Math.min(allowed, row.concurrency - n);
  }
  if (allowed <= 0) return [];
  // Returned in the order to start them: claim order, or the round-robin's for groups.
  const rows =
    row.grouped === 0
      ? toClaimOrder(
          store
            .rawSql(L.CLAIM_LIMITED)
            .all({ queue, now, limit: allowed, lease_until: leaseUntil }) as PickedRow[],
          (r) => r,
        )
      : roundRobin(store, queue, row, allowed, now, leaseUntil, cursors);
  if (row.rate_max !== null && rows.length > 0)
    store.sql(L.STARTS_RECORD).run({ queue, now, n: rows.length });
  return rows;
}

/**
 * One round-robin turn as a whole claim of one, with no transaction around it (the writer's
 * autocommit): the next group after this process's cursor, its head claimed in one statement
 * that itself checks the queue is grouped and bound by nothing else. The same turn as the
 * limited claim's first one (roundRobin, with no groupConcurrency), without the transaction's
 * BEGIN and COMMIT and its read of the queue's row, which measured about a third of a grouped
 * reserve. Undefined when that is not the whole claim: no cursor of this process's yet, its
 * storing due, or no head found after it (the pass wraps around, or the queue's limits
 * changed); the caller then runs the limited claim, and nothing was changed.
 */
export function groupTurnAlone(
  store: Store,
  cursors: GroupCursors,
  queue: string,
  now: number,
  leaseUntil: number,
): PickedRow | undefined {
  const after = cursors.unstoredStart(queue, now);
  if (after === undefined) return undefined;
  // all(), not get(): see claimAlone in backend.ts (the WAL hook runs only for a statement
  // stepped to its end).
  const [found] = store
    .rawSql(L.CLAIM_NEXT_HEAD_ALONE)
    .all({ queue, after, now, lease_until: leaseUntil }) as GroupPickedRow[];
  if (found === undefined) return undefined;
  cursors.movedUnstored(queue, found.pop() as string);
  return found as unknown as PickedRow;
}

/**
 * Serves groups in name order, starting after the cursor (the last group served) and wrapping
 * around to it: one pass takes at most one job per group, a group at its groupConcurrency is
 * skipped, and passes go on until `allowed` jobs are taken or a pass takes none. Ungrouped
 * jobs of the queue are the group '' (first in the order) and are bound by no groupConcurrency.
 * A group's head is its first ready job in claim order, or with groupConcurrency 1 its oldest
 * job (by id), which holds the group while it is not ready.
 */
function roundRobin(
  store: Store,
  queue: string,
  row: LimitsRow,
  allowed: number,
  now: number,
  leaseUntil: number,
  cursors: GroupCursors,
): PickedRow[] {
  const seek = (after: string | null, upto: string | null): string | undefined => {
    if (after === null) {
      return (
        upto === null
          ? store.pluckSql(L.FIRST_GROUP).get({ queue })
          : store.pluckSql(L.FIRST_GROUP_UPTO).get({ queue, upto })
      ) as string | undefined;
    }
    return (
      upto === null
        ? store.pluckSql(L.NEXT_GROUP).get({ queue, after })
        : store.pluckSql(L.NEXT_GROUP_UPTO).get({ queue, after, upto })
    ) as string | undefined;
  };
  // With no groupConcurrency, a turn is one statement: the next group's head claimed where it
  // is found (seek then claim apart only when that group has no ready head).
  const seekAndClaim = (after: string | null, upto: string | null): GroupPickedRow | undefined => {
    const sql =
      after === null
        ? upto === null
          ? L.CLAIM_FIRST_HEAD
          : L.CLAIM_FIRST_HEAD_UPTO
        : upto === null
          ? L.CLAIM_NEXT_HEAD
          : L.CLAIM_NEXT_HEAD_UPTO;
    return store.rawSql(sql).get({ queue, after, upto, now, lease_until: leaseUntil }) as
      | GroupPickedRow
      | undefined;
  };
  const held = store.pluckSql(L.GROUP_HELD);
  const head = store.rawSql(L.CLAIM_GROUP_HEAD);
  // groupConcurrency 1 is strict FIFO by id (API.md): the head is the group's oldest job, and
  // one that is not ready holds the group. The ungrouped jobs ('') keep the claim order.
  const fifo = store.rawSql(L.CLAIM_GROUP_FIFO_HEAD);
  const start = cursors.start(queue, row.group_cursor);
  const cap = row.group_concurrency;
  const rows: PickedRow[] = [];
  let last: string | null = null;
  while (rows.length < allowed) {
    let added = 0;
    // Groups after `start`, then (wrapped) those up to it: each group once in the pass.
    let wrapped = start === null;
    let after: string | null = start;
    while (rows.length < allowed) {
      if (cap === null) {
        const found = seekAndClaim(after, wrapped ? start : null);
        if (found !== undefined) {
          const grp = found.pop() as string;
          rows.push(found as unknown as PickedRow);
          added++;
          after = last = grp;
          continue;
        }
      }
      const grp = seek(after, wrapped ? start : null);
      if (grp === undefined) {
        if (wrapped) break;
        wrapped = true;
        after = null;
        continue;
      }
      after = grp;
      if (cap !== null && grp !== "" && (held.get({ queue, grp }) as number) >= cap) continue;
      const claim = cap === 1 && grp !== "" ? fifo : head;
      const picked = claim.get({ queue, grp, now, lease_until: leaseUntil }) as PickedRow | undefined;
      if (picked === undefined) continue;
      rows.push(picked);
      added++;
      last = grp;
    }
    if (added === 0) break;
  }
  if (last !== null) cursors.moved(store, queue, last, now);
  return rows;
}

/**
 * Stores the limits a handle stated (inside the writer's transaction): each one given is set,
 * the others stay. A rate limit removed takes its window of starts with it.
 */
export function storeLimits(store: Store, queue: string, patch: LimitsPatch, now: number): void {
  const rate = patch.rateLimit;
  store.sql(L.STORE_LIMITS).run({
    queue,
    now,
    rate_max: rate?.max ?? null,
    rate_duration: rate?.duration ?? null,
    concurrency: patch.concurrency ?? null,
    group_concurrency: patch.groupConcurrency ?? null,
    set_rate: rate === undefined ? 0 : 1,
    set_concurrency: patch.concurrency === undefined ? 0 : 1,
    set_group: patch.groupConcurrency === undefined ? 0 : 1,
  });
  if (rate === null) store.sql(L.STARTS_CLEAR).run({ queue });
}

/** A round-robin turn's row: PickedRow, then the group it came from. */
type GroupPickedRow = [...PickedRow, string];

/** How often a process stores where its round-robin stands (ms). */
const CURSOR_STORE_MS = 250;

/** Whether a cursor was stored less than CURSOR_STORE_MS ago (a clock set back: not lately). */
function storedLately(entry: { storedAt: number }, now: number): boolean {
  return now - entry.storedAt < CURSOR_STORE_MS && now >= entry.storedAt;
}

/**
 * Where each grouped queue's round-robin stands. The stored cursor (the settings row) is where
 * a process starts; from there each process keeps its own and stores it at most every
 * CURSOR_STORE_MS, not on every claim: that write was a third of a grouped claim's cost (a page
 * more in every commit). Each process still serves every group once per pass, so the groups
 * stay served in turn whatever the number of processes; a process that starts later begins
 * where the others recently stood.
 */
export class GroupCursors {
  private readonly local = new Map<string, { value: string; storedAt: number }>();

  /** The group to start after: this process's own position, else the stored one. */
  start(queue: string, stored: string | null): string | null {
    return this.local.get(queue)?.value ?? stored;
  }

  /**
   * The group a claim of one with no transaction may start after: this process's own position,
   * when it has one and storing it is not due (a claim that would store it runs in a
   * transaction, as the row is written there). Undefined otherwise.
   */
  unstoredStart(queue: string, now: number): string | undefined {
    const entry = this.local.get(queue);
    return entry !== undefined && storedLately(entry, now) ? entry.value : undefined;
  }

  /** A claim with no transaction served up to group `value` (unstoredStart said it may). */
  movedUnstored(queue: string, value: string): void {
    const entry = this.local.get(queue);
    if (entry !== undefined) entry.value = value;
  }

  /** A claim served up to group `value` (inside its transaction, where the row is written). */
  moved(store: Store, queue: string, value: string, now: number): void {
    const entry = this.local.get(queue);
    if (entry !== undefined && storedLately(entry, now)) {
      entry.value = value;
      return;
    }
    store.sql(L.SET_GROUP_CURSOR).run({ queue, grp: value });
    this.local.set(queue, { value, storedAt: now });
  }
}

/** For an idle worker: ms until a claim may find a job again (see limitedDueIn); 0 when not limited. */
export function limitedWait(store: Store, queue: string, now: number): number | null {
  const row = limitsRow(store, queue);
  if (row === undefined || row.limited === 0) return 0;
  if (row.paused !== 0) return null;
  const state: LimitState = {
    rateMax: row.rate_max,
    used: 0,
    freesIn: null,
    concurrency: row.concurrency,
    reserved: 0,
    groupConcurrency: row.group_concurrency,
  };
  if (row.rate_max !== null && row.rate_duration !== null) {
    const before = now - row.rate_duration;
    const w = store.sql(L.STARTS_IN_WINDOW).get({ queue, before }) as { used: number; oldest: number | null };
    state.used = w.used;
    state.freesIn = w.oldest === null ? null : w.oldest + row.rate_duration - now;
  }
  if (row.concurrency !== null)
    state.reserved = (store.sql(L.RESERVED_COUNT).get({ queue }) as { n: number }).n;
  return limitedDueIn(state);
}

/**
 * Whether an add's jobs go in with a group (inside the add's transaction, before the insert).
 * The first grouped add makes the queue grouped, and its older jobs join the ungrouped group
 * ''; once it is grouped, every add's ungrouped jobs join '' too (one primary-key read per
 * add), so the round-robin finds every job of the queue through spool_jobs_groups.
 */
export function addsGrouped(
  store: Pick<Store, "sql" | "pluckSql">,
  queue: string,
  jobs: readonly NewJob[],
  now: number,
): boolean {
  if ((store.pluckSql(L.IS_GROUPED).get(queue) as number | undefined) === 1) return true;
  if (!jobs.some((j) => j.group != null)) return false;
  store.sql(L.MARK_GROUPED).run({ queue, now });
  store.sql(L.UNGROUPED_JOIN).run({ queue });
  return true;
}
