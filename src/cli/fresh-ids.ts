/*
 * Which ids an import's addBatch calls created. A record whose key matches a live job adds
 * nothing and yields that job's id, so counting ids would count duplicates as imported. New
 * ids are drawn in input order and above every id that existed before (SQLite gives max + 1,
 * PostgreSQL draws from its sequence), so an id is new exactly when it is above both the
 * highest live id of the queue when the import began and every new id seen since. (A job
 * another process adds with the same key during the import could be miscounted; nothing else.)
 */
import type { Queue } from "../queue.js";
import { highestId } from "./highest-id.js";

/** States in which a job still holds its key (a later job with that key is a duplicate). */
const LIVE = ["pending", "delayed", "reserved"] as const;

export class FreshIds {
  private floor: number | null = null;

  constructor(private readonly queue: Queue<unknown>) {}

  /**
   * Call before an addBatch: with keys, a duplicate is possible, so the floor must be known
   * (read once, before the first keyed batch adds anything).
   */
  async before(keyed: boolean): Promise<void> {
    if (keyed) this.floor ??= await highestId(this.queue, LIVE);
  }

  /** How many of `ids` (one addBatch's answer, in input order) are new jobs. */
  count(ids: readonly number[]): number {
    // Keyless records are always new; the floor is only needed once a key could match.
    if (this.floor === null) return ids.length;
    let fresh = 0;
    for (const id of ids) {
      if (id > this.floor) {
        fresh++;
        this.floor = id;
      }
    }
    return fresh;
  }
}
