// Spool: opens a store, hands out queues and channels, prunes finished jobs, and closes it all.
import type { Backend, BackendOptions } from "./backend.js";
import { type ChannelOptions, openChannel, type Receiver, type Sender } from "./channel.js";
import { systemClock } from "./clock.js";
import { SpoolContext } from "./context.js";
import { SpoolError, show } from "./errors.js";
import { Queue } from "./queue.js";
import { redactTarget } from "./redact.js";
import type { QueueOptions, SpoolOptions } from "./types.js";
import { checkDuration, checkInteger, checkKnownKeys, checkName, checkObject } from "./validate.js";

const DURABILITIES = ["off", "normal", "full", "extra"] as const;
const OPTION_KEYS = [
  "durability",
  "busyTimeout",
  "maxPayloadBytes",
  "fileMode",
  "schema",
  "crossProcessWakeups",
  "create",
  "clock",
] as const;
/** How often the housekeeping tick runs; each queue prunes at a pace set by its retention. */
const TICK_MS = 250;

export function isPostgresTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

function resolveOptions(raw: unknown): BackendOptions & { maxPayloadBytes: number } {
  const o = checkObject(raw, "Spool.open options");
  checkKnownKeys(o, OPTION_KEYS, "Spool.open");
  const durability = o.durability ?? "full";
  if (!DURABILITIES.includes(durability as (typeof DURABILITIES)[number])) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `durability must be "off", "normal", "full" or "extra", got ${show(durability)}`,
    );
  }
  const schema = o.schema ?? "spool";
  if (typeof schema !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `schema must be a lowercase identifier (a–z, 0–9, _; 63 at most), got ${show(schema)}`,
    );
  }
  if (o.crossProcessWakeups !== undefined && typeof o.crossProcessWakeups !== "boolean") {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `crossProcessWakeups must be a boolean, got ${show(o.crossProcessWakeups)}`,
    );
  }
  if (o.create !== undefined && typeof o.create !== "boolean") {
    throw new SpoolError("INVALID_ARGUMENT", `create must be a boolean, got ${show(o.create)}`);
  }
  if (o.clock !== undefined && typeof o.clock !== "function") {
    throw new SpoolError("INVALID_ARGUMENT", `clock must be a function returning ms, got ${show(o.clock)}`);
  }
  return {
    durability: durability as BackendOptions["durability"],
    busyTimeout: o.busyTimeout === undefined ? 5000 : checkDuration(o.busyTimeout, "busyTimeout"),
    maxPayloadBytes:
      o.maxPayloadBytes === undefined
        ? 64 * 1024 * 1024
        : checkInteger(o.maxPayloadBytes, "maxPayloadBytes", 1),
    fileMode: o.fileMode === undefined ? 0o600 : checkInteger(o.fileMode, "fileMode", 0),
    schema,
    crossProcessWakeups: (o.crossProcessWakeups as boolean | undefined) ?? true,
    create: (o.create as boolean | undefined) ?? true,
    clock: (o.clock as BackendOptions["clock"] | undefined) ?? systemClock,
  };
}

export class Spool implements AsyncDisposable {
  /** What the Spool was opened on, with any password hidden. */
  readonly target: string;
  /** @internal */
  readonly ctx: SpoolContext;
  private readonly pruned = new Map<string, { queue: Queue; last: number }>();
  private readonly tick: NodeJS.Timeout;
  private closing: Promise<void> | null = null;

  private constructor(backend: Backend, target: string, maxPayloadBytes: number) {
    this.ctx = new SpoolContext(backend, maxPayloadBytes);
    this.target = target;
    this.tick = setInterval(() => void this.housekeep(), TICK_MS);
    this.tick.unref();
  }

  /**
   * Opens a SQLite file (created if missing, WAL journal), `":memory:"`, or a `postgres://` URL.
   * @example const spool = await Spool.open("jobs.db", { durability: "normal" })
   */
  static async open(target: string, options?: SpoolOptions): Promise<Spool> {
    if (typeof target !== "string" || target.length === 0) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `target must be a file path, ":memory:" or a postgres:// URL, got ${show(target)}`,
      );
    }
    const resolved = resolveOptions(options);
    let backend: Backend;
    if (isPostgresTarget(target)) {
      const { openPostgresBackend } = await import("./backends/postgres/index.js");
      backend = await openPostgresBackend(target, resolved);
    } else {
      const { openSqliteBackend } = await import("./backends/sqlite/index.js");
      backend = await openSqliteBackend(target, resolved);
    }
    return new Spool(backend, redactTarget(target), resolved.maxPayloadBytes);
  }

  /** Which storage engine serves this Spool: "sqlite" or "postgres". */
  get kind(): string {
    return this.ctx.backend.kind;
  }

  /** A handle on the queue `name`; `defaults` apply to every job added through it. */
  queue<T = unknown>(name: string, defaults?: QueueOptions<T>): Queue<T> {
    checkName(name);
    this.ctx.assertOpen();
    const queue = new Queue<T>(this.ctx, name, defaults);
    // A handle that states no retention (a dashboard, a CLI) never overrides one that does.
    if (defaults?.retention !== undefined || !this.pruned.has(name)) this.watchRetention(queue as Queue);
    return queue;
  }

  /** Names of the queues that hold jobs. */
  async queues(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.ctx.backend.queues();
  }

  /** A sender and a receiver over the queue `name` of this store. */
  async channel<T = unknown>(name: string, options?: ChannelOptions<T>): Promise<[Sender<T>, Receiver<T>]> {
    checkName(name, "channel name");
    this.ctx.assertOpen();
    return openChannel<T>(this, name, options, null);
  }

  /** Stops the workers this Spool started (gracefully), then closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.tick);
      await Promise.allSettled([...this.ctx.stoppables].map((s) => s.stop()));
      this.ctx.markClosed();
      await this.ctx.backend.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The newest settings of each queue name decide its retention in this process. */
  private watchRetention(queue: Queue): void {
    const known = this.pruned.get(queue.name);
    this.pruned.set(queue.name, { queue, last: known?.last ?? Date.now() });
  }

  /** Removes finished jobs past their retention: each queue at most every retention/2 (≤ 1 min). */
  private async housekeep(): Promise<void> {
    if (this.ctx.isClosed || this.closing !== null) return;
    const now = Date.now();
    for (const entry of this.pruned.values()) {
      const { completed, dead } = entry.queue.retention;
      const every = Math.max(TICK_MS, Math.min(60_000, Math.min(completed || 60_000, dead) / 2));
      if (now - entry.last < every) continue;
      entry.last = now;
      try {
        if (completed > 0) await this.ctx.backend.purge(entry.queue.name, "completed", completed);
        await this.ctx.backend.purge(entry.queue.name, "dead", dead);
      } catch {
        // Housekeeping is retried on the next tick; a busy or closing store is no reason to crash.
      }
    }
  }
}
