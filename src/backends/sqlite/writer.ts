// Group commit. The writes of one process issued together (in one wave of microtasks, and after
// a burst for the rest of that turn of the event loop: see gatherAfter) run in one IMMEDIATE
// transaction, so N concurrent completions or sends cost one commit (one fsync at `full`)
// instead of N. A caller's promise resolves only after the commit that holds its change.
//
// The write lock is taken without the driver's busy wait (which would freeze the event loop):
// when another process holds it, the batch is retried on a timer until `busyTimeout`, so timers
// and heartbeats keep running and no process can lock the others out for long.
import { closedError } from "../shared.js";
import { isBusy, translate } from "./connection.js";
import type { Connection, Statement } from "./driver.js";

/**
 * A write that may run together with its like: writes issued one after another whose `key` is
 * the same run as one `runAll` of their items (one statement for many completions), in their
 * place in the batch. Each keeps its own promise, deadline and turn to fail alone.
 */
export interface Mergeable<I> {
  key: string;
  item: I;
  runAll: (items: I[]) => void;
}

interface Pending<T> {
  run: () => T;
  merge?: Mergeable<unknown> | undefined;
  /** One statement doing what `run` does, committed by SQLite itself: see write. */
  autocommit?: (() => T | InTransaction) | undefined;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  /** When this write stops waiting for the lock (BUSY): its own busyTimeout from its call. */
  deadline: number;
  /** Set after its batch failed: it then commits in a transaction of its own. */
  alone?: boolean;
}

/**
 * What an autocommit statement (see Writer.write) answers when it changed nothing and its write
 * needs the transaction after all: a claim that found no job (a rescue or a limited claim may
 * find one), a completion or an add that met a conflict. The writer then runs `run` as usual.
 */
export const IN_TRANSACTION: unique symbol = Symbol("run in a transaction");
export type InTransaction = typeof IN_TRANSACTION;

const RESOLVED = Promise.resolve();
/**
 * Commits a turn of the event loop may issue at once, one after another, before the next waits
 * for the turn's end. A caller awaiting each write in a loop chains commits through microtasks
 * alone: without this bound timers, I/O and a worker's heartbeat would wait for the whole loop
 * (a lease lapsed and its job ran twice). 16 commits at `normal` take well under a millisecond.
 */
const COMMITS_PER_TURN = 16;

export class Writer {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private closed = false;
  /** Set for the rest of a turn that committed a burst: see gatherAfter. */
  private gathering = false;
  /** Commits issued at once in this turn of the event loop (see COMMITS_PER_TURN). */
  private commitsThisTurn = 0;

  constructor(
    private readonly db: Connection,
    private readonly path: string,
    private readonly busyTimeout: number,
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
  }

  /**
   * Runs `run` inside a write transaction shared with the other writes of this tick; with
   * `merge`, runs it with the writes of the same key issued right before or after it (see
   * Mergeable): `run` then serves when it runs alone. With `autocommit`, a single statement that
   * does what `run` does: when the write shares its commit with no other, that statement runs
   * with no BEGIN or COMMIT around it (SQLite commits it by itself, with the same one fsync
   * at `full`). The two statements spared were a tenth of a lone add and of a reserve. When it
   * answers IN_TRANSACTION (it changed nothing), `run` runs in a transaction after all.
   */
  write<T>(run: () => T, merge?: Mergeable<unknown>, autocommit?: () => T | InTransaction): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + this.busyTimeout;
      this.queue.push({ run, merge, autocommit, resolve, reject, deadline } as Pending<unknown>);
      this.schedule(0);
    });
  }

  /**
   * Runs `run` in a transaction of its own before returning, waiting for the lock by blocking
   * the thread (up to busyTimeout): only for callers that cannot await, such as exit handlers.
   */
  writeSync<T>(run: () => T): T {
    if (this.closed) throw closedError();
    const started = Date.now();
    for (;;) {
      try {
        this.begin.run();
        break;
      } catch (error) {
        if (!isBusy(error) || Date.now() - started >= this.busyTimeout) throw translate(error, this.path);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
    }
    try {
      const result = run();
      this.commit.run();
      return result;
    } catch (error) {
      this.safeRollback();
      throw translate(error, this.path);
    }
  }

  private schedule(delay: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (delay > 0) setTimeout(() => this.flush(), delay);
    else if (this.gathering || this.commitsThisTurn >= COMMITS_PER_TURN) setImmediate(() => this.flush());
    else {
      if (this.commitsThisTurn++ === 0) {
        setImmediate(() => {
          this.commitsThisTurn = 0;
        });
      }
      // At once (latency), after the writes issued in this same wave of microtasks. A resolved
      // promise, not queueMicrotask: that one wraps every callback in an async resource.
      void RESOLVED.then(() => this.flush());
    }
  }

  /**
   * After a commit that carried several writes (a burst: concurrent callers, a worker's
   * completions), the rest of this turn of the event loop gathers: later writes wait for its
   * end and share one commit (throughput). A commit of one write starts no gathering: the next
   * write is most likely its caller's next one, and waiting a turn would gather nothing.
   */
  private gatherAfter(batch: readonly Pending<unknown>[]): void {
    if (batch.length < 2 || this.gathering) return;
    this.gathering = true;
    setImmediate(() => {
      this.gathering = false;
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    if (this.closed) {
      this.failAll(this.queue.splice(0), closedError());
      return;
    }
    const lone = this.queue.length === 1 ? this.queue[0] : undefined;
    if (lone?.autocommit !== undefined && !lone.alone && this.flushAutocommit(lone)) return;
    try {
      this.begin.run();
    } catch (error) {
      if (isBusy(error)) this.waitForLock(error);
      else this.failAll(this.queue.splice(0), translate(error, this.path));
      return;
    }
    const batch = this.nextBatch();
    this.gatherAfter(batch);
    const results: unknown[] = [];
    try {
      runAll(batch, results);
      this.commit.run();
    } catch (error) {
      this.safeRollback();
      if (batch.length === 1) {
        (batch[0] as Pending<unknown>).reject(translate(error, this.path));
      } else {
        // One bad write must not sink its neighbours: run each alone so only the culprit fails.
        for (const op of batch) op.alone = true;
        this.queue.unshift(...batch);
      }
      this.schedule(0);
      return;
    }
    for (const [i, op] of batch.entries()) op.resolve(results[i]);
    if (this.queue.length > 0) this.schedule(0);
  }

  /**
   * The one queued write, by its single autocommitted statement; false when that statement
   * answered IN_TRANSACTION, for the caller to run the write in a transaction. On BUSY nothing
   * was written (a statement that could not take the lock did nothing): the write waits like a
   * BEGIN that could not take it.
   */
  private flushAutocommit(op: Pending<unknown>): boolean {
    let result: unknown;
    try {
      result = (op.autocommit as () => unknown)();
    } catch (error) {
      if (isBusy(error)) this.waitForLock(error);
      else {
        this.queue.shift();
        op.reject(translate(error, this.path));
        if (this.queue.length > 0) this.schedule(0);
      }
      return true;
    }
    if (result === IN_TRANSACTION) return false;
    this.queue.shift();
    op.resolve(result);
    if (this.queue.length > 0) this.schedule(0);
    return true;
  }

  /** Everything queued, or a lone write from a batch that failed. */
  private nextBatch(): Pending<unknown>[] {
    if (this.queue[0]?.alone) return this.queue.splice(0, 1);
    const lone = this.queue.findIndex((op) => op.alone);
    return this.queue.splice(0, lone === -1 ? this.queue.length : lone);
  }

  /**
   * The lock is taken: the writes whose own wait is over fail with BUSY, the others try again
   * soon. Each write gets its whole busyTimeout, however long the writes queued before it waited.
   */
  private waitForLock(error: unknown): void {
    const now = Date.now();
    const expired = this.queue.filter((op) => op.deadline <= now);
    if (expired.length > 0) {
      this.queue = this.queue.filter((op) => op.deadline > now);
      this.failAll(expired, translate(error, this.path));
    }
    // A little jitter keeps two waiting processes from retrying in lockstep.
    if (this.queue.length > 0) this.schedule(1 + Math.random() * 2);
  }

  private safeRollback(): void {
    try {
      if (this.db.inTransaction) this.rollback.run();
    } catch {
      // The transaction is already gone (SQLite rolls back by itself on some errors).
    }
  }

  private failAll(ops: Pending<unknown>[], error: unknown): void {
    for (const op of ops) op.reject(error);
  }

  /** Lets queued writes finish, then refuses new ones. */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    this.closed = true;
  }
}

/** Runs a batch's writes in order, each run of mergeable writes of one key as one. */
function runAll(batch: readonly Pending<unknown>[], results: unknown[]): void {
  for (let i = 0; i < batch.length; ) {
    const op = batch[i] as Pending<unknown>;
    const merge = op.merge;
    let end = i + 1;
    if (merge !== undefined && !op.alone) {
      while (end < batch.length && batch[end]?.merge?.key === merge.key && !batch[end]?.alone) end++;
    }
    if (end - i === 1) {
      results.push(op.run());
      i++;
      continue;
    }
    merge?.runAll(batch.slice(i, end).map((o) => o.merge?.item));
    for (; i < end; i++) results.push(undefined);
  }
}
