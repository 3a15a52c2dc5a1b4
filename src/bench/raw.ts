/*
 * Raw better-sqlite3 doing the same SQL work as a queue with no library around it: the
 * physical limit on this machine. WAL, `synchronous` set to the durability, one jobs table
 * with a partial index on the ready rows that matches the claim's ORDER BY, one INSERT per
 * transaction for single adds, 1,000 per transaction for batches, and per job one claim
 * transaction (UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING) then one completion.
 */
import { EventEmitter } from "node:events";
import Database from "better-sqlite3";
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

const READY = "queue = ? AND state = 0 AND run_at <= ? ORDER BY priority DESC, run_at, id";
const LEASE_MS = 30_000;
// An idle raw loop re-checks this often: the cheapest cross-process signal with no library.
const IDLE_POLL_MS = 1;

/** The raw store; the channel workloads also use its delete-returning takes. */
export class RawStore implements Subject {
  readonly db: Database.Database;
  private readonly name: string;
  private readonly added = new EventEmitter();
  private readonly insert: Database.Statement;
  private readonly claim: Database.Statement;
  private readonly finish: Database.Statement;
  private readonly takeSome: Database.Statement;
  private readonly insertMany: (payloads: readonly BenchPayload[]) => void;
  readonly addBatch = (payloads: BenchPayload[]): Promise<void> => {
    this.insertMany(payloads);
    this.added.emit("added");
    return Promise.resolve();
  };
  readonly takeOne = (): Promise<boolean> => {
    const row = this.claim.get(Date.now() + LEASE_MS, this.name, Date.now()) as { id: number } | undefined;
    if (row === undefined) return Promise.resolve(false);
    this.finish.run(Date.now(), row.id);
    return Promise.resolve(true);
  };

  constructor(options: SubjectOptions) {
    this.name = options.name;
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare("INSERT INTO jobs (queue, run_at, payload) VALUES (?, ?, ?)");
    this.claim = this.db.prepare(
      `UPDATE jobs SET state = 1, attempts = attempts + 1, lease_until = ?
       WHERE id = (SELECT id FROM jobs WHERE ${READY} LIMIT 1) RETURNING id, payload`,
    );
    this.finish = this.db.prepare("UPDATE jobs SET state = 2, finished_at = ? WHERE id = ? AND state = 1");
    this.takeSome = this.db.prepare(
      `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${READY} LIMIT ?) RETURNING id, payload`,
    );
    this.insertMany = this.db.transaction((payloads: readonly BenchPayload[]) => {
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
   * The raw per-job loop. better-sqlite3 is synchronous, so `concurrency` loops still run one
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
          | { id: number; payload: Buffer }
          | undefined;
        if (row === undefined) {
          await new Promise<void>((resolve) => {
            waiting.add(resolve);
            setTimeout(resolve, IDLE_POLL_MS);
          });
          waiting.clear();
          continue;
        }
        handler(decode(row.payload));
        this.finish.run(Date.now(), row.id);
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

  async close(): Promise<void> {
    await sleep(0);
    this.db.close();
  }
}

function encode(payload: BenchPayload): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

function decode(bytes: Buffer): BenchPayload {
  return JSON.parse(bytes.toString("utf8")) as BenchPayload;
}

export function openRaw(options: SubjectOptions): Promise<RawStore> {
  return Promise.resolve(new RawStore(options));
}
