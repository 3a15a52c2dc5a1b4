// A worker's heartbeat: every third of its lease it extends the leases of the jobs it holds
// (running ones, claimed ones still waiting in its buffer, and finished ones whose outcome is
// still being written) in one statement. A buffered job found lost leaves the buffer; a running
// one found lost has its handler told (loseLease).
import type { StoredJob } from "./backend.js";
import { heldRef } from "./tokens.js";
import type { Job } from "./types.js";
import type { WorkedQueue } from "./worker-options.js";

/** What the heartbeat needs to know of one running job. */
export interface RenewedRun<T> {
  job: Job<T>;
  row: StoredJob;
  settled: boolean;
  /** Where the handler's own `extend` put the lease (this process's clock), if it did. */
  extendedUntil?: number;
}

/**
 * Extends every lease `running` and `buffer` hold; `lose` is told of each run that lost its.
 * Returns the buffered rows found lost (they have left the buffer).
 */
export async function renewLeases<T, R extends RenewedRun<T>>(
  queue: WorkedQueue<T>,
  lease: number,
  running: ReadonlyMap<number, R>,
  buffer: StoredJob[],
  /**
   * Jobs whose handlers are done but whose outcome is not written yet (held for the next claim's
   * commit, or queued for a busy pool): their leases are kept too, or a write slower than the
   * lease lets another worker run the job again. Whether they were lost does not matter here:
   * the write itself finds out.
   */
  finishing: Iterable<StoredJob>,
  lose: (entry: R) => void,
  report: (error: unknown) => void,
  /** Told which buffered rows were renewed, and when the renewal was sent (performance.now()). */
  renewed: (rows: StoredJob[], sent: number) => void = () => {},
): Promise<StoredJob[]> {
  // A lease the handler pushed further out itself (ctx.extend) is not cut back to `lease`:
  // such a job is renewed again once `now + lease` passes what it holds.
  const renewTo = Date.now() + lease;
  const sent = performance.now();
  const live = [...running.values()].filter((e) => !e.settled && (e.extendedUntil ?? 0) < renewTo);
  const waiting = [...buffer];
  const written = [...finishing];
  if ((live.length === 0 && waiting.length === 0 && written.length === 0) || queue.ctx.isClosed) return [];
  const held = [...live.map((e) => heldRef(e.row)), ...waiting.map(heldRef), ...written.map(heldRef)];
  try {
    const outcome = await queue.ctx.backend.extendMany(queue.name, held, lease);
    const lost = new Set(outcome.lost);
    // A skipped row (another transaction holds it) was not renewed: its lease is what it was
    // until the backend's waiting renewal gets it, so nothing here may count it as renewed.
    const skipped = new Set(outcome.skipped);
    // Only rows still buffered: one that left meanwhile (a pause handed it back, a start) was
    // not lost by this worker.
    const lostWaiting: StoredJob[] = [];
    for (const row of waiting) {
      const at = buffer.indexOf(row);
      if (!lost.has(row.id) || at === -1) continue;
      buffer.splice(at, 1);
      lostWaiting.push(row);
    }
    renewed(
      waiting.filter((row) => !lost.has(row.id) && !skipped.has(row.id)),
      sent,
    );
    for (const entry of live) {
      if (lost.has(entry.job.id)) lose(entry);
      else if (!skipped.has(entry.job.id)) entry.job.leaseUntil = new Date(Date.now() + lease);
    }
    return lostWaiting;
  } catch (error) {
    if (!queue.ctx.isClosed) report(error);
    return [];
  }
}
