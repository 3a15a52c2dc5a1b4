/*
 * The connection pool and the two ways statements run on it: one statement on any free
 * connection, or a transaction on one connection that is always ended (COMMIT or ROLLBACK) and
 * released before the promise settles. No code path holds one connection while waiting for
 * another, so a pool smaller than the worker concurrency only queues, never deadlocks.
 */
import pg from "pg";
import type { BackendOptions } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import { closedError } from "../shared.js";
import { isRetryable, makeTranslator, type Translate } from "./errors.js";
import type { PlannedOnceTexts } from "./planned-once.js";
import type { QueryName } from "./queries.js";

/** Connections per backend unless `poolSize` says otherwise: enough for a busy worker pool. */
export const DEFAULT_POOL_SIZE = 10;
/**
 * The longest wait either bound can express: PostgreSQL's lock_timeout is an int of ms, and
 * Node's timers turn anything longer than 2^31 − 1 ms into 1 ms.
 */
const LONGEST_WAIT_MS = 2 ** 31 - 1;
/** Seconds of silence before TCP probes a connection: a half-open one is found, not trusted. */
export const KEEPALIVE_DELAY_MS = 60_000;
/** How often a process asks again whether the planned-once functions keep their plans. */
const PLANS_KEPT_RECHECK_MS = 10_000;

/** How often a transaction that hit a deadlock or serialization failure is run again. */
const RETRIES = 3;

export type Row = Record<string, unknown>;
export type Values = unknown[];

/**
 * How an add's payloads travel: "binary", one Buffer parameter (Spool's own pool on `pg`'s
 * JavaScript client); "text", the same bytes as `\x` hex text, for a client that may send a
 * Buffer otherwise: `pg`'s native (libpq) client sends a parameter as a C string (a NUL cuts it,
 * a backslash escapes), and a caller's `{ client }` may be anything with `query(text, values)`.
 */
export type PayloadEncoding = "binary" | "text";

export class Connections {
  readonly pool: pg.Pool;
  readonly translate: Translate;
  /** Server process ids of this pool's connections: their notifications are our own. */
  readonly pids = new Set<number>();
  /**
   * How adds send payloads (enqueue.ts): bytes once a connection has shown it is `pg`'s
   * JavaScript client, hex text before that or on the native (libpq) client, which has no
   * binary parameters.
   */
  payloadEncoding: PayloadEncoding = "text";
  private closed = false;
  /** Whether the planned-once functions keep their plans (planned-once.ts), as last looked. */
  private plansKept = false;
  private plansKeptAt = 0;
  private plansLooking = false;

  constructor(
    readonly target: string,
    options: BackendOptions,
    private readonly sql: Record<QueryName, string>,
    private readonly plannedOnce: PlannedOnceTexts,
  ) {
    this.translate = makeTranslator(target, () => this.closed);
    const wait = Math.min(LONGEST_WAIT_MS, Math.max(1, Math.round(options.busyTimeout)));
    // A lock wait past busyTimeout ends the statement (55P03 → BUSY); a transaction left idle
    // by a hung process is ended by the server instead of holding its locks forever.
    const settings = [
      `-c lock_timeout=${wait}`,
      "-c idle_in_transaction_session_timeout=60000",
      options.durability === "off" ? "-c synchronous_commit=off" : "",
    ];
    const { url, userOptions } = splitOptions(target);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      // Names the schema, so an operator (or a test) can tell whose connection it is.
      application_name: `spool ${options.schema}`.slice(0, 63),
      // The URL's own options come last: a setting the user chose wins over Spool's default.
      options: [...settings, userOptions].filter(Boolean).join(" "),
      // Waiting for a free connection counts as waiting for the store: bounded like a lock.
      connectionTimeoutMillis: Math.min(LONGEST_WAIT_MS, Math.max(1000, options.busyTimeout)),
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    });
    // An idle connection dropped by a server restart emits 'error' on the pool; unhandled, it
    // would crash the process. The pool already discards that client; the next query reconnects.
    this.pool.on("error", ignore);
    this.pool.on("connect", (client) => {
      // pg's native client keeps its libpq handle in `native`; the JavaScript one has none.
      this.payloadEncoding =
        (client as unknown as { native?: unknown }).native === undefined ? "binary" : "text";
      const pid = (client as unknown as { processID?: number }).processID;
      if (typeof pid === "number") this.pids.add(pid);
    });
    this.pool.on("remove", (client) => {
      const pid = (client as unknown as { processID?: number }).processID;
      if (typeof pid === "number") this.pids.delete(pid);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private check(): void {
    if (this.closed) throw closedError();
  }

  /** CLOSED once the pool is closed (for work done on a connection that is not ours). */
  assertOpen(): void {
    this.check();
  }

  /** A statement's text, the schema filled in (for a caller's own connection). */
  text(name: QueryName): string {
    return this.sql[name];
  }

  /**
   * Statement `name` as sent: through its function once the table is one whose plans the
   * functions keep (planned-once.ts), as it is otherwise. Looked again every
   * PLANS_KEPT_RECHECK_MS, in the background: until the answer comes, the last one serves.
   */
  private statement(name: QueryName, values: Values): pg.QueryConfig {
    const call = this.plannedOnce.calls[name];
    if (call !== undefined) {
      if (Date.now() - this.plansKeptAt >= PLANS_KEPT_RECHECK_MS) void this.lookIfPlansKept();
      if (this.plansKept) return { name: `spool_${name}_once`, text: call, values };
    }
    return { name: `spool_${name}`, text: this.sql[name], values };
  }

  /** Asks the table whether the planned-once functions keep their plans (statistics.ts, after an ANALYZE). */
  async lookIfPlansKept(): Promise<void> {
    if (this.plansLooking || this.closed) return;
    this.plansLooking = true;
    try {
      const result = await this.pool.query({ name: "spool_PLANS_KEPT", text: this.plannedOnce.gate });
      this.plansKept = result.rows[0]?.kept === true;
    } catch {
      // The last answer stands: either way of sending the statements does the same.
    } finally {
      this.plansKeptAt = Date.now();
      this.plansLooking = false;
    }
  }

  /** Runs one named statement on any free connection. */
  async run(name: QueryName, values: Values, doing: string): Promise<Row[]> {
    this.check();
    try {
      const result = await this.pool.query(this.statement(name, values));
      return result.rows as Row[];
    } catch (error) {
      throw this.translate(error, doing);
    }
  }

  /**
   * Runs `body` in a transaction on one connection. `body` gets a runner bound to that
   * connection, and `undo`: called with a value, it ends the transaction with ROLLBACK (nothing
   * the body did happened) and the transaction returns that value. Deadlocks and serialization
   * failures roll back and run the whole body again.
   */
  async transaction<T>(
    doing: string,
    body: (run: (name: QueryName, values: Values) => Promise<Row[]>, undo: (value: T) => never) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.check();
      const client = await this.checkout(doing);
      let broken: Error | undefined;
      let undone: { value: T } | undefined;
      const undo = (value: T): never => {
        undone = { value };
        throw new Undo();
      };
      try {
        await client.query("BEGIN");
        const result = await body(async (name, values) => {
          const r = await client.query(this.statement(name, values));
          return r.rows as Row[];
        }, undo);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is unusable (server gone): destroy it rather than pool it.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        if (error instanceof Undo && undone !== undefined) {
          // Not rolled back for sure (the server ends the transaction when it finds the
          // connection gone, but not necessarily before the caller's next statement).
          if (broken !== undefined) throw this.translate(broken, doing);
          return undone.value;
        }
        if (attempt < RETRIES && isRetryable(error)) continue;
        throw this.translate(error, doing);
      } finally {
        this.checkin(client, broken);
      }
    }
  }

  /**
   * A checked-out connection that the server drops between two queries emits 'error' with no
   * pool listener attached: unhandled, that would crash the process. The failure still reaches
   * the caller through its next query; the connection is then destroyed on release.
   */
  async checkout(doing: string): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error, doing);
    }
    client.on("error", ignore);
    return client;
  }

  /** Returns a checked-out connection; `broken` destroys it instead of pooling it. */
  checkin(client: pg.PoolClient, broken: Error | undefined): void {
    client.off("error", ignore);
    client.release(broken);
  }

  /** Runs an unnamed one-off statement on a dedicated connection (migrations). */
  async withClient<T>(doing: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.check();
    const client = await this.checkout(doing);
    let broken: Error | undefined;
    try {
      return await body(client);
    } catch (error) {
      if (!(error instanceof SpoolError)) broken = error instanceof Error ? error : new Error(String(error));
      throw this.translate(error, doing);
    } finally {
      this.checkin(client, broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => {});
  }
}

/**
 * Takes the `options` parameters out of a connection URL. node-postgres lets the URL's options
 * replace the ones given beside it, which silently dropped Spool's (lock_timeout, durability):
 * the two are joined instead, every `options=` of the URL in order. PGOPTIONS, read only when
 * no options are given, joins the same way. The URL is read as node-postgres reads it (see
 * urlOptions), and the parameters are cut out of its text, so every form it accepts keeps the
 * rest exactly as written: the empty-host socket form `postgres://u:p@/db?host=/cloudsql/…`
 * (which `new URL()` refuses), `socket:` URLs, anything `URL` would re-encode.
 */
export function splitOptions(target: string): { url: string; userOptions: string } {
  const own = urlOptions(target);
  if (own.length === 0) return { url: target, userOptions: process.env.PGOPTIONS ?? "" };
  return { url: withoutOptions(target), userOptions: own.join(" ") };
}

/** The `options` values node-postgres's parser (pg-connection-string) finds in a URL. */
function urlOptions(target: string): string[] {
  // "/socket/dir dbname": no query string at all.
  if (target.startsWith("/")) return [];
  let text = target;
  // As pg-connection-string does: spaces and stray % are encoded before parsing.
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(text)) text = encodeURI(text).replace(/%25(\d\d)/g, "%$1");
  for (const attempt of [text, text.replace("@/", "@___DUMMY___/")]) {
    try {
      return new URL(attempt, "postgres://base").searchParams.getAll("options");
    } catch {
      // An empty host with credentials: pg-connection-string retries with a placeholder host.
    }
  }
  return [];
}

/**
 * The URL without its `options` parameters, every other character as written. Reached only
 * when the parse above found a query: that begins at the first "?" and ends at a "#".
 */
function withoutOptions(target: string): string {
  const start = target.indexOf("?");
  if (start < 0) return target;
  const hash = target.indexOf("#", start);
  const end = hash < 0 ? target.length : hash;
  const kept = target
    .slice(start + 1, end)
    .split("&")
    .filter((pair) => paramName(pair) !== "options");
  return target.slice(0, start) + (kept.length > 0 ? `?${kept.join("&")}` : "") + target.slice(end);
}

/** A query parameter's name as URLSearchParams decodes it ("+" is a space). */
function paramName(pair: string): string {
  const name = (pair.split("=")[0] ?? "").replace(/\+/g, " ");
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Thrown by a transaction's `undo` to end it with ROLLBACK; never leaves `transaction`. */
class Undo extends Error {}

export function ignore(): void {
  // See Connections.checkout: the error surfaces through the next query instead.
}
