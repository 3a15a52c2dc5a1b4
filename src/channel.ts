// The channel: a sender and a receiver over the queue of the same name. Sending is an insert
// (group-committed with the process's other writes); receiving removes the item in the same
// transaction that reads it (at most once). A bounded channel makes senders wait for room,
// woken by receives in this process and by the cross-process notifier, with polling as fallback.
import type { Decoded } from "./backend.js";
import { decodeError, errorText, SpoolError, show } from "./errors.js";
import type { Queue } from "./queue.js";
import type { CodecOption, Durability } from "./types.js";
import {
  checkAbortSignal,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPositiveDuration,
} from "./validate.js";

export interface ChannelOptions<T> {
  /** Items the channel holds before `send` waits. @default unbounded */
  maxSize?: number;
  /** Item codec. @default JSON values and raw bytes */
  codec?: CodecOption<T>;
}

export interface StandaloneChannelOptions<T> extends ChannelOptions<T> {
  /** Durability of the store `channel()` opens. @default "full" */
  durability?: Durability;
}

export interface SendOptions {
  /** ms to wait for room; then `QUEUE_FULL`. @default no limit */
  timeout?: number;
  /** Ends the wait with the signal's reason. */
  signal?: AbortSignal;
}

/** Senders waiting on a full channel re-check at least this often (the cross-process fallback). */
const ROOM_POLL_MS = 200;

function closedError(what: string): SpoolError {
  return new SpoolError("CLOSED", `this ${what} is closed`);
}

/** State both ends share: the queue, the size limit, and what to do once both are closed. */
class Link<T> {
  senderOpen = true;
  receiverOpen = true;

  constructor(
    readonly queue: Queue<T>,
    readonly maxSize: number | undefined,
    /** A standalone channel closes its own store here; a Spool's channel has nothing to do. */
    private readonly onBothClosed: (() => Promise<void>) | null,
  ) {}

  async endClosed(): Promise<void> {
    if (!this.senderOpen && !this.receiverOpen) await this.onBothClosed?.();
  }
}

export class Sender<T> {
  /** Sends waiting for room, woken by close() so they end at once instead of sending later. */
  private readonly closeWaiters = new Set<() => void>();

  /** Not for users: `spool.channel(name)` makes a sender and a receiver. */
  constructor(private readonly link: Link<T>) {}

  /** Sends one item; waits while the channel is full. */
  async send(item: T, options?: SendOptions): Promise<void> {
    await this.sendBatch([item], options);
  }

  /** Sends all items in one transaction, all or none; waits until there is room for all. */
  async sendBatch(items: readonly T[], options?: SendOptions): Promise<void> {
    if (!Array.isArray(items))
      throw new SpoolError("INVALID_ARGUMENT", `sendBatch takes an array, got ${show(items)}`);
    const o = checkObject(options, "send options");
    checkKnownKeys(o, ["timeout", "signal"], "send");
    const timeout = o.timeout === undefined ? undefined : checkPositiveDuration(o.timeout, "timeout");
    const signal = checkAbortSignal(o.signal, "signal");
    const { queue, maxSize } = this.link;
    if (!this.link.senderOpen) throw closedError("sender");
    if (maxSize !== undefined && items.length > maxSize) {
      throw new SpoolError(
        "QUEUE_FULL",
        `a batch of ${items.length} items can never fit a channel of maxSize ${maxSize}`,
      );
    }
    if (items.length === 0) {
      queue.ctx.assertOpen();
      return;
    }
    const jobs = queue.prepare(items, undefined);
    signal?.throwIfAborted();
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    for (;;) {
      queue.ctx.assertOpen();
      const ids = await queue.ctx.backend.enqueue(queue.name, jobs, maxSize);
      if (ids !== null) {
        queue.held.meter.addedJobs(ids.length);
        queue.ctx.signal(queue.name);
        return;
      }
      await this.waitForRoom(items.length, deadline, signal);
    }
  }

  private async waitForRoom(
    needed: number,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { queue, maxSize = Number.POSITIVE_INFINITY } = this.link;
    for (;;) {
      const left = deadline === undefined ? ROOM_POLL_MS : deadline - Date.now();
      if (left <= 0) {
        throw new SpoolError(
          "QUEUE_FULL",
          `channel "${queue.name}" stayed full (maxSize ${maxSize}) for the whole timeout`,
        );
      }
      await new Promise<void>((resolve, reject) => {
        const cleanUp = () => {
          clearTimeout(timer);
          stop();
          this.closeWaiters.delete(done);
          signal?.removeEventListener("abort", aborted);
        };
        const done = () => {
          cleanUp();
          resolve();
        };
        const aborted = () => {
          cleanUp();
          reject(signal?.reason);
        };
        const timer = setTimeout(done, Math.min(left, ROOM_POLL_MS));
        const stop = queue.ctx.onChange(queue.name, done);
        this.closeWaiters.add(done);
        if (signal?.aborted) aborted();
        else signal?.addEventListener("abort", aborted, { once: true });
      });
      // A send still waiting when its sender closes sends nothing: nothing is written after
      // close() has resolved.
      if (!this.link.senderOpen) throw closedError("sender");
      queue.ctx.assertOpen();
      // A cheap read first: only try the write when the room may be there.
      if ((await queue.ctx.backend.backlog(queue.name)) + needed <= maxSize) return;
    }
  }

  /**
   * SQLite only: sends and commits before returning, for code that cannot await (an exit
   * handler). `QUEUE_FULL` at once when the channel is full.
   */
  sendSync(item: T): void {
    const { queue, maxSize } = this.link;
    if (!this.link.senderOpen) throw closedError("sender");
    queue.ctx.assertOpen();
    const backend = queue.ctx.backend;
    if (backend.enqueueSync === undefined) {
      throw new SpoolError("INVALID_ARGUMENT", `sendSync needs a SQLite store; this one is ${backend.kind}`);
    }
    const ids = backend.enqueueSync(queue.name, queue.prepare([item], undefined), maxSize);
    if (ids === null)
      throw new SpoolError("QUEUE_FULL", `channel "${queue.name}" is full (maxSize ${maxSize})`);
    queue.held.meter.addedJobs(ids.length);
    queue.ctx.signal(queue.name);
  }

  /** Items waiting to be received (dead letters excluded). */
  async len(): Promise<number> {
    this.link.queue.ctx.assertOpen();
    return this.link.queue.ctx.backend.backlog(this.link.queue.name);
  }

  async isEmpty(): Promise<boolean> {
    return (await this.len()) === 0;
  }

  async close(): Promise<void> {
    if (!this.link.senderOpen) return;
    this.link.senderOpen = false;
    for (const wake of this.closeWaiters) wake();
    await this.link.endClosed();
  }
}

export class Receiver<T> {
  private readonly closeWaiters = new Set<() => void>();

  /** Not for users: `spool.channel(name)` makes a sender and a receiver. */
  constructor(private readonly link: Link<T>) {}

  /** Removes and returns the oldest item; `undefined` when the channel is empty. */
  async recv(): Promise<T | undefined> {
    const [item] = await this.recvBatch(1);
    return item;
  }

  /** Removes and returns up to `limit` items, oldest first; `[]` when empty. */
  async recvBatch(limit: number): Promise<T[]> {
    checkInteger(limit, "limit", 1);
    if (!this.link.receiverOpen) throw closedError("receiver");
    const { queue } = this.link;
    queue.ctx.assertOpen();
    // Decoding happens inside the take's transaction: an undecodable item becomes dead there
    // and the rest stay in their places, with no moment where a good item is out of the store.
    const taken = await queue.ctx.backend.take(queue.name, limit, (row): Decoded<T> => {
      try {
        return { item: queue.codec.decode(row.payload, row.format) };
      } catch (cause) {
        return { error: `decode failed: ${errorText(cause)}`, cause };
      }
    });
    if (taken.failed !== null) {
      queue.ctx.signal(queue.name);
      throw decodeError(queue.name, taken.failed.job.id, taken.failed.cause);
    }
    if (taken.items.length > 0) queue.ctx.signal(queue.name);
    return taken.items;
  }

  async len(): Promise<number> {
    this.link.queue.ctx.assertOpen();
    return this.link.queue.ctx.backend.backlog(this.link.queue.name);
  }

  async isEmpty(): Promise<boolean> {
    return (await this.len()) === 0;
  }

  /** Deletes every waiting item; dead letters stay. */
  async clear(): Promise<void> {
    const { queue } = this.link;
    queue.ctx.assertOpen();
    await queue.ctx.backend.clear(queue.name, true);
    queue.ctx.signal(queue.name);
  }

  async close(): Promise<void> {
    if (!this.link.receiverOpen) return;
    this.link.receiverOpen = false;
    for (const wake of this.closeWaiters) wake();
    await this.link.endClosed();
  }

  /** Yields items as they arrive; ends when the receiver is closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    const { queue } = this.link;
    while (this.link.receiverOpen && !queue.ctx.isClosed) {
      const items = await this.recvBatch(1);
      if (items.length > 0) {
        yield items[0] as T;
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stop();
          this.closeWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ROOM_POLL_MS * 5);
        const stop = queue.ctx.onChange(queue.name, done);
        this.closeWaiters.add(done);
      });
    }
  }
}

/**
 * @internal The options of `spool.channel` and `channel()`, checked before the queue handle is
 * made (`durability` is the standalone channel's store's, and ignored by a Spool's).
 */
export function checkChannelOptions<T>(options: unknown): {
  maxSize: number | undefined;
  codec: CodecOption<T> | undefined;
} {
  const o = checkObject(options, "channel options");
  checkKnownKeys(o, ["maxSize", "codec", "durability"], "channel");
  const maxSize = o.maxSize === undefined ? undefined : checkInteger(o.maxSize, "maxSize", 1);
  return { maxSize, codec: o.codec as CodecOption<T> | undefined };
}

/**
 * @internal The two ends of a channel over `queue`. `onBothClosed` runs once both ends are
 * closed (a standalone channel closes its store there).
 */
export function openChannel<T>(
  queue: Queue<T>,
  maxSize: number | undefined,
  onBothClosed: (() => Promise<void>) | null,
): [Sender<T>, Receiver<T>] {
  queue.ctx.settings.works(queue.name); // a channel's ends work the store, so their Spool may prune it
  const link = new Link(queue, maxSize, onBothClosed);
  return [new Sender(link), new Receiver(link)];
}
