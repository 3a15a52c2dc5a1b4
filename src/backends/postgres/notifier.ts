/*
 * Cross-process wake-ups (the Notifier; SQLite's, in its notifier.ts, watches the WAL) over
 * LISTEN/NOTIFY, on one dedicated connection per backend (a pooled one would be handed to
 * queries and miss notifications). When the connection drops (server
 * restart, network), it reconnects with backoff, LISTENs again, and tells every listener `null`:
 * notifications sent meanwhile are lost, so any queue may have work. Delivery is best effort;
 * the core's polling is the safety net.
 */
import pg from "pg";
import type { Notifier } from "../../backend.js";
import type { SpoolLogger } from "../../metrics/logger.js";
import { KEEPALIVE_DELAY_MS } from "./pool.js";

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * Prefixes a NOTIFY payload that names a queue in which the store itself made jobs ready (a
 * dependency's completion released them: see dependency-queries.ts). No queue name starts with
 * it, so a payload from an older Spool is never taken for one.
 */
export const RELEASED_MARK = "+";

export class ListenNotifier implements Notifier {
  private readonly listeners = new Set<(queue: string | null) => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private backoff = FIRST_BACKOFF_MS;
  private timer: NodeJS.Timeout | null = null;
  /** How many times the connection came back after a loss (for tests and diagnostics). */
  reconnects = 0;
  /** Told of a lost connection and of each reconnect (the Spool's logger). */
  logger?: SpoolLogger;

  constructor(
    private readonly target: string,
    readonly channel: string,
    private readonly applicationName: string,
    /** Our own pool's server pids: their notifications were already delivered in-process. */
    private readonly ownPids: ReadonlySet<number>,
  ) {}

  /** Connects and LISTENs; rejects if the first connection fails (open reports it). */
  async start(): Promise<void> {
    await this.connect();
  }

  subscribe(listener: (queue: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The statements NOTIFY on commit themselves; nothing more to send. */
  announce(_queue: string): void {}

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  private emit(queue: string | null): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(queue);
      } catch {
        // A listener's failure is its own; the others still hear the signal.
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.target,
      application_name: this.applicationName,
      // This connection only listens: without keepalive a half-open one (a peer gone without a
      // FIN) would look up forever while every wake-up is lost.
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    });
    // Without an 'error' handler a dropped connection would crash the process.
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => {
      if (message.channel !== this.channel) return;
      const payload = message.payload ?? null;
      // RELEASED_MARK: jobs the store released by itself (a completion's trigger), which this
      // process's workers must hear of too; a plain queue name from one of our own connections
      // was signalled here already.
      if (payload?.startsWith(RELEASED_MARK)) this.emit(payload.slice(RELEASED_MARK.length));
      else if (!this.ownPids.has(message.processId)) this.emit(payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      client.removeAllListeners("end");
      client.on("error", () => {});
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.backoff = FIRST_BACKOFF_MS;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners("end");
    client.end().catch(() => {});
    this.logger?.warn({ channel: this.channel }, "spool LISTEN connection lost; reconnecting");
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer !== null) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.reconnects++;
          this.logger?.info(
            { channel: this.channel, reconnects: this.reconnects },
            "spool LISTEN reconnected",
          );
          this.emit(null);
        },
        () => this.schedule(),
      );
    }, wait);
    // A reconnect loop must not keep an otherwise finished process alive.
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    this.listeners.clear();
    if (client !== null) {
      client.removeAllListeners("end");
      await client.end().catch(() => {});
    }
  }
}
