// The Backend methods of the SQLite backend that only read (get, list, counts, the schedule, the
// settings). They run outside the writer: WAL readers never wait for it.
import type { BrowseRange, QueueSettings, StoredJob } from "../../backend.js";
import type { JobState, QueueSize } from "../../types.js";
import { DEPENDENCY_IDS } from "./dependencies.js";
import * as R from "./read-queries.js";
import {
  type PreviewRow,
  type Row,
  type SettingsRow,
  toPreviewJob,
  toSettings,
  toStoredJob,
} from "./rows.js";
import type { Store } from "./store.js";

export function get(store: Store, queue: string, id: number): Promise<StoredJob | null> {
  return store.read(() => {
    const row = store.sql(R.GET).get({ queue, id }) as Row | undefined;
    if (row === undefined) return null;
    const job = toStoredJob(row, store.clock());
    if (row.deps_left != null) {
      job.dependsOn = (store.sql(DEPENDENCY_IDS).all({ id }) as { dep: number }[]).map((d) => d.dep);
    }
    return job;
  });
}

/** One statement per state, so each uses its index; with `previewBytes`, its preview twin. */
const LISTS: Record<JobState, { full: string; preview: string }> = {
  waiting: { full: R.LIST_STATE, preview: R.LIST_STATE_PREVIEW },
  pending: { full: R.LIST_PENDING, preview: R.LIST_PENDING_PREVIEW },
  delayed: { full: R.LIST_DELAYED, preview: R.LIST_DELAYED_PREVIEW },
  reserved: { full: R.LIST_STATE, preview: R.LIST_STATE_PREVIEW },
  completed: { full: R.LIST_COMPLETED, preview: R.LIST_COMPLETED_PREVIEW },
  dead: { full: R.LIST_STATE, preview: R.LIST_STATE_PREVIEW },
};

export function list(
  store: Store,
  queue: string,
  state: JobState,
  limit: number,
  afterId: number,
  previewBytes?: number,
): Promise<StoredJob[]> {
  return store.read(() => {
    const now = store.clock();
    const { full, preview } = LISTS[state];
    const params: Record<string, unknown> = { queue, limit, after: afterId };
    // Each statement is given exactly the parameters it names.
    if (state === "pending" || state === "delayed") params.now = now;
    else if (state !== "completed") params.state = state;
    if (previewBytes === undefined)
      return (store.sql(full).all(params) as Row[]).map((r) => toStoredJob(r, now));
    params.preview = previewBytes;
    return (store.sql(preview).all(params) as (Row & PreviewRow)[]).map((r) => toPreviewJob(r, now));
  });
}

export function browse(
  store: Store,
  queue: string,
  states: readonly JobState[],
  range: BrowseRange,
  previewBytes?: number,
): Promise<StoredJob[]> {
  return store.read(() => {
    const now = store.clock();
    const params: Record<string, unknown> = { queue, now, ...range };
    for (const state of ["waiting", "pending", "delayed", "reserved", "completed", "dead"] as const) {
      params[state] = states.includes(state) ? 1 : 0;
    }
    if (previewBytes === undefined)
      return (store.sql(R.BROWSE).all(params) as Row[]).map((r) => toStoredJob(r, now));
    params.preview = previewBytes;
    return (store.sql(R.BROWSE_PREVIEW).all(params) as (Row & PreviewRow)[]).map((r) => toPreviewJob(r, now));
  });
}

export function counts(store: Store, queue: string): Promise<QueueSize> {
  // One read transaction: the two counts come from one snapshot, so a job another process
  // moves between them is counted once, not twice or never.
  const countAll = () =>
    store.db.transaction(() => {
      const size: QueueSize = {
        waiting: 0,
        pending: 0,
        delayed: 0,
        reserved: 0,
        completed: 0,
        dead: 0,
        total: 0,
        paused: false,
      };
      for (const { state, n } of store.sql(R.COUNTS).all({ queue }) as { state: Row["state"]; n: number }[]) {
        size[state] = n;
        size.total += n;
      }
      const pending = store.sql(R.COUNT_PENDING).get({ queue, now: store.clock() }) as {
        n: number;
        delayed: number;
      };
      size.delayed = pending.delayed;
      size.pending = pending.n - pending.delayed;
      size.total += pending.n;
      const row = store.sql(R.IS_PAUSED).get({ queue }) as { paused: number } | undefined;
      size.paused = row !== undefined && row.paused !== 0;
      return size;
    });
  return store.read(() => countAll());
}

export function queues(store: Store): Promise<string[]> {
  return store.read(() => (store.sql(R.QUEUES).all() as { queue: string }[]).map((r) => r.queue));
}

export function nextDueIn(store: Store, queue: string): Promise<number | null> {
  return store.read(() => {
    const now = store.clock();
    const { at } = store.sql(R.NEXT_DUE_IN).get({ queue, now }) as { at: number | null };
    return at === null ? null : Math.max(0, at - now);
  });
}

export function oldestPendingAge(store: Store, queue: string): Promise<number | null> {
  return store.read(() => {
    const now = store.clock();
    const { at } = store.sql(R.OLDEST_PENDING_AGE).get({ queue, now }) as { at: number | null };
    return at === null ? null : now - at;
  });
}

export function backlog(store: Store, queue: string): Promise<number> {
  return store.read(() => (store.sql(R.BACKLOG).get({ queue }) as { n: number }).n);
}

/** The stored settings of `queue` (inside a write too: the retention prune reads them there). */
export function storedSettings(store: Store, queue: string): QueueSettings | null {
  const row = store.sql(R.READ_SETTINGS).get({ queue }) as SettingsRow | undefined;
  return row === undefined ? null : toSettings(row);
}

export function readSettings(store: Store, queue: string): Promise<QueueSettings | null> {
  return store.read(() => storedSettings(store, queue));
}
