/*
 * Group commit for held transitions (complete, fail). A worker issues a completion per finished
 * job without awaiting it, so many arrive in the same turn of the event loop: each autocommitted
 * on its own connection, they would cost one statement and one commit (one fsync) apiece. Here
 * the calls of one kind and queue issued meanwhile become one statement over parallel arrays,
 * gathered until the end of the turn, or while the previous statement of the group is still
 * running (so a slow commit makes the next group larger, never the queue of statements longer).
 *
 * Each caller's promise settles after the commit that holds its change, with its own outcome.
 * A statement that fails for a reason other than the connection (a value the server refuses)
 * is run again one call at a time, so one bad call never sinks its neighbours.
 */
import type { HeldOutcome } from "../../backend.js";
import { closedError } from "../shared.js";
import { isRetryable } from "./errors.js";
import type { Row } from "./pool.js";

/** One held transition: the job, the token and attempt it must be held at (null: any), the rest. */
export interface HeldCall {
  id: number;
  attempt: number | null;
  token: number | null;
}

interface Waiting<C> {
  call: C;
  resolve: (outcome: HeldOutcome) => void;
  reject: (error: unknown) => void;
}

/** Runs one statement for calls of one queue with distinct ids; one row per call (id, done, found). */
export type RunGroup<C> = (queue: string, calls: C[]) => Promise<Row[]>;

/** How often a group that hit a deadlock or serialization failure runs again. */
const RETRIES = 3;

export class Grouper<C extends HeldCall> {
  /** Calls waiting to be sent, by queue. */
  private waiting = new Map<string, Waiting<C>[]>();
  /** Queues whose statement is running: their calls wait for it to end. */
  private readonly busy = new Set<string>();
  private scheduled = false;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly runGroup: RunGroup<C>,
    private readonly isClosed: () => boolean,
  ) {}

  add(queue: string, call: C): Promise<HeldOutcome> {
    if (this.isClosed()) return Promise.reject(closedError());
    return new Promise<HeldOutcome>((resolve, reject) => {
      let list = this.waiting.get(queue);
      if (list === undefined) {
        list = [];
        this.waiting.set(queue, list);
      }
      list.push({ call, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every call added so far has settled (before the pool closes). */
  settled(): Promise<void> {
    if (this.waiting.size === 0 && this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const queue of [...this.waiting.keys()]) if (!this.busy.has(queue)) void this.send(queue);
    });
  }

  private async send(queue: string): Promise<void> {
    const list = this.waiting.get(queue);
    if (list === undefined) return;
    this.waiting.delete(queue);
    this.busy.add(queue);
    try {
      await this.sendAll(queue, list);
    } finally {
      this.busy.delete(queue);
      if (this.waiting.has(queue)) this.schedule();
      else if (this.waiting.size === 0 && this.busy.size === 0) {
        for (const resolve of [...this.idle]) resolve();
        this.idle.clear();
      }
    }
  }

  /** Statements of distinct ids: a job named twice goes in the next one, after the first commits. */
  private async sendAll(queue: string, list: Waiting<C>[]): Promise<void> {
    let rest = list;
    while (rest.length > 0) {
      const seen = new Set<number>();
      const now: Waiting<C>[] = [];
      const later: Waiting<C>[] = [];
      for (const w of rest) {
        if (seen.has(w.call.id)) later.push(w);
        else {
          seen.add(w.call.id);
          now.push(w);
        }
      }
      await this.sendGroup(queue, now);
      rest = later;
    }
  }

  private async sendGroup(queue: string, group: Waiting<C>[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let rows: Row[];
      try {
        // In id order, so two processes' statements lock shared rows (a lapsed lease taken
        // over) in the same order and cannot deadlock each other.
        rows = await this.runGroup(
          queue,
          group.map((w) => w.call).sort((a, b) => a.id - b.id),
        );
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        if (attempt < RETRIES && isRetryable(cause)) continue;
        // One call's fault (a refused value), or one row locked past the busy timeout (an
        // application's open transaction holds a dependency it added a job on): each call on
        // its own, so the others are not failed (and their jobs run again) for it.
        if (group.length > 1 && (isRefusedValue(cause) || isLockTimeout(cause))) {
          for (const w of group) await this.sendGroup(queue, [w]);
        } else for (const w of group) w.reject(error);
        return;
      }
      const byId = new Map<number, Row>();
      for (const row of rows) byId.set(Number(row.id), row);
      for (const w of group) {
        const row = byId.get(w.call.id);
        w.resolve(row?.done ? "ok" : row?.found ? "lease_lost" : "not_found");
      }
      return;
    }
  }
}

/** A statement that waited for a row lock past lock_timeout (Spool's busyTimeout). */
function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "55P03";
}

/**
 * The server refused a value (data exception, constraint, size limit: SQLSTATE classes 22, 23,
 * 54), which is one call's fault. Lost connections, lock timeouts and the like fail them all.
 */
function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
