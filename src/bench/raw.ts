/*
 * Raw SQLite (better-sqlite3, node:sqlite or bun:sqlite: the driver Spool is measured on) doing
 * the same SQL work as a queue with no library around it: the physical limit on this machine.
 * WAL, `synchronous` set to the durability, one jobs table with a partial index on the ready
 * rows that matches the claim's ORDER BY, one INSERT per transaction for single adds, 1,000 per
 * transaction for batches, and per job one claim transaction (UPDATE … WHERE id = (SELECT …
 * LIMIT 1) RETURNING) then one completion.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import type { BenchPayload } from "./stats.js";
import { sleep, yieldToEventLoop } from "./stats.js";
import type { RunningWorker, Subject, SubjectOptions } from "./subject.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  finished_at INTEGER,
  payload BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (queue, priority DESC, run_at, id) WHERE state = 0;
`;

/*
 * "Raw with Spool's guarantees": the same loop on a table that carries what Spool must and the
 * plain raw table does not, at the least cost SQLite allows. A claimed job must be findable by
 * its lease (a crashed worker's job comes back) and a completed one by its finish time (retention
 * deletes it), so one partial index holds every row that is not pending; a completion is checked
 * against the holder's token and lease. The states are numbered so a completed entry sorts just
 * before the reserved ones (as Spool's 'completed' < 'reserved'): the move at completion mostly
 * stays on one index page. A claim then writes the table, the ready index and this index; a
 * completion the table and this index: about 5 WAL pages a job where the plain raw loop writes 3.
 */
const GUARANTEES = `
CREATE INDEX IF NOT EXISTS jobs_done ON jobs (queue, state, finished_at) WHERE state <> 0;
`;
const GUARDED_STATES = { reserved: 3, completed: 2 } as const;
const PLAIN_STATES = { reserved: 1, completed: 2 } as const;

const READY = "queue = ? AND state = 0 AND run_at <= ? ORDER BY priority DESC, run_at, id";
const LEASE_MS = 30_000;
// An idle raw loop re-checks this often: the cheapest cross-process signal with no library.
const IDLE_POLL_MS = 1;

/**
 * The driver's own statement: better-sqlite3's Statement, node:sqlite's StatementSync and
 * bun:sqlite's Statement all fit (bun:sqlite's `get` answers null, not undefined, for no row).
 */
interface RawStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** The driver's own connection, as raw code uses it. */
interface RawDb {
  prepare(sql: string): RawStatement;
  exec(sql: string): void;
  close(): void;
}

const require = createRequire(import.meta.url);

/**
 * A connection straight from the driver, and that driver's own way to run a function in a
 * transaction (better-sqlite3's and bun:sqlite's db.transaction; BEGIN/COMMIT by hand on
 * node:sqlite). bun:sqlite is loaded only when asked for, which happens only on Bun.
 */
function openDriver(
  path: string,
  driver: SubjectOptions["driver"],
): { db: RawDb; transaction: <A>(fn: (arg: A) => void) => (arg: A) => void } {
  if (driver === "node:sqlite") {
    const getBuiltin = (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule;
    const { DatabaseSync } = getBuiltin("node:sqlite") as { DatabaseSync: new (path: string) => RawDb };
    const db = new DatabaseSync(path);
    return {
      db,
      transaction: (fn) => (arg) => {
        db.exec("BEGIN");
        try {
          fn(arg);
          db.exec("COMMIT");
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      },
    };
  }
  if (driver === "bun:sqlite") {
    const { Database } = require("bun:sqlite") as {
      Database: new (
        path: string,
        options: { strict: boolean },
      ) => RawDb & { transaction<A>(fn: (arg: A) => void): (arg: A) => void };
    };
    // strict: named values bind without their prefix, as on the other two drivers.
    const db = new Database(path, { strict: true });
    return { db, transaction: (fn) => db.transaction(fn) };
  }
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(path);
  return { db, transaction: (fn) => db.transaction(fn) };
}

/** The raw store; the channel workloads also use its delete-returning takes. */
export class RawStore implements Subject {
  readonly db: RawDb;
  private readonly name: string;
  private readonly added = new EventEmitter();
  private readonly insert: RawStatement;
  private readonly claim: RawStatement;
  private readonly finish: RawStatement;
  private readonly takeSome: RawStatement;
  private readonly insertMany: (payloads: readonly BenchPayload[]) => void;
  readonly addBatch = (payloads: BenchPayload[]): Promise<void> => {
    this.insertMany(payloads);
    this.added.emit("added");
    return Promise.resolve();
  };
  readonly takeOne = (): Promise<boolean> => {
    const row = this.claim.get(Date.now() + LEASE_MS, this.name, Date.now()) as
      | { id: number; attempts: number }
      | undefined
      | null;
    if (row == null) return Promise.resolve(false);
    this.complete(row);
    return Promise.resolve(true);
  };

  /** `guarantees`: the table carries what Spool must (see GUARANTEES). */
  constructor(
    options: SubjectOptions,
    private readonly guarantees = false,
  ) {
    this.name = options.name;
    // The driver Spool runs on in this bench (quick.ts sets the variable for each driver's pass).
    const driver = options.driver ?? (process.env.SPOOL_SQLITE_DRIVER as SubjectOptions["driver"]);
    const { db, transaction } = openDriver(options.path, driver);
    this.db = db;
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec(`PRAGMA synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.db.exec(guarantees ? SCHEMA + GUARANTEES : SCHEMA);
    const { reserved, completed } = guarantees ? GUARDED_STATES : PLAIN_STATES;
    this.insert = this.db.prepare("INSERT INTO jobs (queue, run_at, payload) VALUES (?, ?, ?)");
    this.claim = this.db.prepare(
      `UPDATE jobs SET state = ${reserved}, attempts = attempts + 1, lease_until = ?
       WHERE id = (SELECT id FROM jobs WHERE ${READY} LIMIT 1) RETURNING id, ${guarantees ? "attempts, " : ""}payload`,
    );
    this.finish = this.db.prepare(
      guarantees
        ? `UPDATE jobs SET state = ${completed}, finished_at = ?, lease_until = NULL
            WHERE id = ? AND state = ${reserved} AND attempts = ? AND lease_until >= ?`
        : `UPDATE jobs SET state = ${completed}, finished_at = ? WHERE id = ? AND state = ${reserved}`,
    );
    this.takeSome = this.db.prepare(
      `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${READY} LIMIT ?) RETURNING id, payload`,
    );
    this.insertMany = transaction((payloads: readonly BenchPayload[]) => {
      const now = Date.now();
      for (const p of payloads) this.insert.run(this.name, now, encode(p));
    });
  }

  addOne(payload: BenchPayload): Promise<void> {
    this.insert.run(this.name, Date.now(), encode(payload));
    this.added.emit("added");
    return Promise.resolve();
  }

  async prefill(count: number, make: (i: number) => BenchPayload): Promise<void> {
    for (let start = 0; start < count; start += 1000) {
      const batch: BenchPayload[] = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) batch.push(make(i));
      this.insertMany(batch);
    }
  }

  /** Removes and returns up to `limit` ready items in one transaction (a channel receive). */
  take(limit: number): BenchPayload[] {
    const rows = this.takeSome.all(this.name, Date.now(), limit) as Array<{ id: number; payload: Buffer }>;
    rows.sort((a, b) => a.id - b.id);
    return rows.map((r) => decode(r.payload));
  }

  /**
   * The raw per-job loop. Every driver is synchronous, so `concurrency` loops still run one
   * statement at a time; they exist so the raw side gets the same call as every other subject.
   */
  work(handler: (payload: BenchPayload) => void, concurrency: number): Promise<RunningWorker> {
    let running = true;
    const waiting = new Set<() => void>();
    const onAdded = (): void => {
      for (const wake of waiting) wake();
    };
    this.added.on("added", onAdded);
    const loop = async (): Promise<void> => {
      let sinceYield = 0;
      while (running) {
        const row = this.claim.get(Date.now() + LEASE_MS, this.name, Date.now()) as
          | { id: number; attempts: number; payload: Buffer }
          | undefined
          | null;
        if (row == null) {
          await new Promise<void>((resolve) => {
            waiting.add(resolve);
            setTimeout(resolve, IDLE_POLL_MS);
          });
          waiting.clear();
          continue;
        }
        handler(decode(row.payload));
        this.complete(row);
        if (++sinceYield >= 64) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    };
    const loops = Array.from({ length: Math.max(1, concurrency) }, () => loop());
    return Promise.resolve({
      stop: async () => {
        running = false;
        onAdded();
        this.added.off("added", onAdded);
        await Promise.all(loops);
      },
    });
  }

  private complete(row: { id: number; attempts: number }): void {
    // The plain table's claim returns no attempts: its completion checks no holder.
    if (this.guarantees) {
      const now = Date.now();
      this.finish.run(now, row.id, row.attempts, now);
    } else this.finish.run(Date.now(), row.id);
  }

  async close(): Promise<void> {
    await sleep(0);
    this.db.close();
  }
}

function encode(payload: BenchPayload): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

/** A payload as the driver returns it: a Buffer (better-sqlite3) or a Uint8Array (node:sqlite, bun:sqlite). */
function decode(bytes: Uint8Array): BenchPayload {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return JSON.parse(buffer.toString("utf8")) as BenchPayload;
}

export function openRaw(options: SubjectOptions): Promise<RawStore> {
  return Promise.resolve(new RawStore(options));
}

/** Raw SQLite on a table that carries Spool's guarantees (GUARANTEES): the fair limit. */
export function openRawGuarded(options: SubjectOptions): Promise<RawStore> {
  return Promise.resolve(new RawStore(options, true));
}
