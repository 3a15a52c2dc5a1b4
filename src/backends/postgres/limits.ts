/*
 * Limited queues on PostgreSQL, for the backend: the limited claim (one round trip to the
 * function claim_limited), the idle wait, storing limits, marking a queue grouped, and the
 * NOTIFY that tells other processes a limited queue's slot came free.
 */
import type { HeldOutcome, LimitsPatch } from "../../backend.js";
import { show } from "../../errors.js";
import { limitedDueIn } from "../limits-wait.js";
import type { Connections, Row } from "./pool.js";
import { num, numOrNull } from "./rows.js";

/** How long a queue whose limited claim took jobs is taken to be limited still. */
const KNOWN_MS = 1000;

export class Limits {
  /** Queues whose limited claim last took jobs, and when (process clock: only a hint). */
  private readonly limited = new Map<string, number>();
  /** Queues whose limited claim ever took jobs here: their completions free a slot. */
  private readonly everLimited = new Set<string>();
  /** Queues this process made grouped: their adds need not say it again. */
  private readonly grouped = new Set<string>();
  /** Queues with a wake-up due at the end of this turn (one NOTIFY for many completions). */
  private readonly waking = new Set<string>();

  constructor(
    private readonly db: Connections,
    private readonly channel: string,
  ) {}

  /** Whether `queue` was found limited a moment ago: its claims go to the limited claim first. */
  known(queue: string): boolean {
    const at = this.limited.get(queue);
    return at !== undefined && Date.now() - at < KNOWN_MS;
  }

  /**
   * The limited claim: the rows it took, or (taking none) null, so the caller's plain claim
   * decides. An empty answer cannot tell a queue at its limit from one no longer limited (another
   * process removed the limits, or paused and resumed it): the belief is dropped, never trusted
   * to answer [] for a queue whose plain claim would find jobs.
   */
  async claim(queue: string, limit: number, leaseMs: number, doing: string): Promise<Row[] | null> {
    const rows = await this.db.run("CLAIM_LIMITED", [queue, limit, leaseMs], doing);
    if (rows.length > 0) {
      this.limited.set(queue, Date.now());
      this.everLimited.add(queue);
      return rows;
    }
    this.limited.delete(queue);
    return null;
  }

  /**
   * After `outcome` (a completion or failure) settles: a job of a queue limited here freed a
   * slot, so workers of other processes waiting on it are told (one NOTIFY per queue and turn).
   */
  freed(queue: string, outcome: Promise<HeldOutcome>): Promise<HeldOutcome> {
    if (!this.everLimited.has(queue)) return outcome;
    return outcome.then((result) => {
      if (result === "ok" && !this.waking.has(queue)) {
        this.waking.add(queue);
        setImmediate(() => {
          this.waking.delete(queue);
          this.db.run("WAKE", [this.channel, queue], `waking the workers of ${show(queue)}`).catch(() => {});
        });
      }
      return result;
    });
  }

  /** For an idle worker when a job is ready: how long its queue's limits hold claims back. */
  async wait(queue: string): Promise<number | null> {
    const row = (await this.db.run("LIMITS_STATE", [queue], `reading the limits of ${show(queue)}`))[0];
    if (row === undefined) return 0;
    if (row.paused === true) return null;
    return limitedDueIn({
      rateMax: numOrNull(row.rate_max),
      used: num(row.used),
      freesIn: numOrNull(row.frees_in),
      concurrency: numOrNull(row.concurrency),
      reserved: num(row.reserved),
      groupConcurrency: numOrNull(row.group_concurrency),
    });
  }

  async store(queue: string, patch: LimitsPatch): Promise<void> {
    const rate = patch.rateLimit;
    await this.db.run(
      "STORE_LIMITS",
      [
        queue,
        rate?.max ?? null,
        rate?.duration ?? null,
        patch.concurrency ?? null,
        patch.groupConcurrency ?? null,
        rate !== undefined,
        patch.concurrency !== undefined,
        patch.groupConcurrency !== undefined,
        this.channel,
      ],
      `storing the limits of ${show(queue)}`,
    );
    this.limited.delete(queue);
  }

  /** Before a grouped add: the queue becomes grouped (once per process and queue). */
  async markGrouped(queue: string): Promise<void> {
    if (this.grouped.has(queue)) return;
    await this.db.run("MARK_GROUPED", [queue], `adding grouped jobs to ${show(queue)}`);
    this.grouped.add(queue);
  }
}
