/*
 * Lease renewals that wait for a row lock (PostgreSQL). A heartbeat's EXTEND_MANY never waits:
 * it skips a row another transaction holds (an application's transaction adding a child of the
 * job, the job's own outcome being written). Such a row is renewed here instead, by a statement
 * that waits for the lock, so it is first in line when the lock is let go, ahead of a rescue
 * that would take the job back once the holder commits.
 *
 * Three rules, each from a hostile review:
 * - One row per statement, committed as soon as it has its row: a statement over several rows
 *   kept the rows it got early locked (and unrenewed in the store) while it waited for a later
 *   one, and their leases ran out before it committed.
 * - Lanes: at most half the pool waits at once, the rest queue here, so rows held by many
 *   applications' transactions cannot take every connection from the heartbeat and from the
 *   worker's own writes. A statement ended by lock_timeout goes behind the queued rows.
 * - A lease that ran out while its row was held is renewed all the same if the job is still the
 *   holder's (state and claim token unchanged): no rescue could take it while the row was held,
 *   and a statement ended by lock_timeout (busyTimeout) is sent again when the heartbeat still
 *   asks for the row, instead of leaving the job to a rescue once the application commits.
 */
import type { HeldRef } from "../../backend.js";
import type { Connections } from "./pool.js";

interface Wanted {
  queue: string;
  token: number;
  leaseMs: number;
}

export class WaitingRenewals {
  /** Rows waiting for a lane, in the order they were skipped. */
  private readonly queued = new Map<number, Wanted>();
  /** Rows whose statement is waiting for its lock now. */
  private readonly waiting = new Set<number>();
  /** Rows a heartbeat skipped again while their statement waited: sent again if it times out. */
  private readonly askedAgain = new Set<number>();
  private readonly lanes: number;

  constructor(private readonly db: Connections) {
    this.lanes = Math.max(1, Math.floor((db.pool.options.max ?? 10) / 2));
  }

  /** Rows a heartbeat found locked by another transaction. */
  skipped(queue: string, held: readonly HeldRef[], leaseMs: number): void {
    for (const { id, token } of held) {
      if (this.waiting.has(id)) this.askedAgain.add(id);
      else this.queued.set(id, { queue, token, leaseMs });
    }
    this.pump();
  }

  /** Rows a heartbeat renewed or found lost: nothing of theirs is left to wait for. */
  settled(ids: Iterable<number>): void {
    for (const id of ids) this.queued.delete(id);
  }

  private pump(): void {
    while (this.waiting.size < this.lanes && this.queued.size > 0 && !this.db.isClosed) {
      const [id, wanted] = this.queued.entries().next().value as [number, Wanted];
      this.queued.delete(id);
      this.send(id, wanted);
    }
  }

  private send(id: number, wanted: Wanted): void {
    this.waiting.add(id);
    this.askedAgain.delete(id);
    const { queue, token, leaseMs } = wanted;
    this.db
      .run("EXTEND_WAITING", [queue, id, token, leaseMs], `extending the lease of job ${id}`)
      .then(
        () => {},
        () => {
          // Its lock outlasted busyTimeout (or the connection failed): again, behind the other
          // rows, while the heartbeat still asks for it. Otherwise the next heartbeat finds out.
          if (this.askedAgain.has(id) && !this.queued.has(id)) this.queued.set(id, wanted);
        },
      )
      .finally(() => {
        this.waiting.delete(id);
        this.askedAgain.delete(id);
        this.pump();
      });
  }
}
