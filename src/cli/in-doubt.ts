/*
 * Whether an import batch whose addBatch failed was committed anyway. On PostgreSQL a connection
 * lost after the server committed but before its answer arrived leaves the batch in doubt: the
 * client sees an error for jobs that are in the queue, and resuming before them would add them
 * twice. A batch's jobs all get ids above every id that existed before it (a sequence; SQLite:
 * max + 1), so after the failure the jobs above that floor tell: none means not committed; as
 * many as the batch, starting and ending with its first and last payloads, means committed.
 * On SQLite a failed transaction wrote nothing, so no check is needed.
 */
import { isDeepStrictEqual } from "node:util";
import type { Queue } from "../queue.js";
import { JOB_STATES } from "../types.js";
import { highestId } from "./highest-id.js";

export class BatchCheck {
  /** Every id of the queue is at most this (null: not read yet). */
  private floor: number | null = null;

  constructor(
    private readonly queue: Queue<unknown>,
    /** False on SQLite: its failed transactions are rolled back whole. */
    private readonly needed: boolean,
  ) {}

  /** Call before each addBatch: the first reads the queue's highest id. */
  async before(): Promise<void> {
    if (this.needed) this.floor ??= await highestId(this.queue, JOB_STATES);
  }

  /** The ids an addBatch returned: the next batch's ids are above them. */
  after(ids: readonly number[]): void {
    if (this.floor === null) return;
    for (const id of ids) this.floor = Math.max(this.floor, id);
  }

  /**
   * After a failed addBatch of `payloads`: true when the store holds the batch, false when it
   * holds none of it, null when that cannot be told (the store cannot be reached, or another
   * writer's jobs are mixed in).
   */
  async landed(payloads: readonly unknown[]): Promise<boolean | null> {
    if (!this.needed || this.floor === null) return false;
    try {
      const above = await this.queue.browsePreviews(
        JOB_STATES,
        { after: this.floor, limit: payloads.length },
        0,
      );
      if (above.length === 0) return false;
      if (above.length < payloads.length) return null;
      const first = await this.queue.get((above[0] as { id: number }).id);
      const last = await this.queue.get((above[above.length - 1] as { id: number }).id);
      const same = (a: unknown, b: unknown) =>
        isDeepStrictEqual(a, b) ||
        (a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b)));
      return same(first?.payload, payloads[0]) && same(last?.payload, payloads[payloads.length - 1])
        ? true
        : null;
    } catch {
      return null;
    }
  }
}
