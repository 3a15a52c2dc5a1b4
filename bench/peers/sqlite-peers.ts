// plainjob and liteque, the SQLite peers, behind the benchmark's Subject interface.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { better, defineQueue, defineWorker } from "plainjob";
import type { BenchPayload } from "../../src/bench/stats.js";
import type { Subject, SubjectOptions } from "../../src/bench/subject.js";
import { BENCH } from "../paths.js";

// Both libraries log every job by default; a quiet logger keeps the terminal out of the timing.
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * plainjob 0.0.14: hard-codes WAL + synchronous=NORMAL in defineQueue; for `full` the pragma is
 * set again on its connection afterwards. It has no concurrency option, so concurrency N is N
 * worker loops in one process, as its README does with processes.
 */
export async function openPlainjob(options: SubjectOptions): Promise<Subject> {
  const connection = better(new Database(options.path));
  const queue = defineQueue({ connection, logger: quiet });
  if (options.durability === "full") connection.pragma("synchronous = FULL");
  const type = options.name;
  return {
    addOne: async (payload) => {
      queue.add(type, payload);
    },
    addBatch: async (payloads) => {
      queue.addMany(type, payloads);
    },
    prefill: async (count, make) => {
      for (let start = 0; start < count; start += 1000) {
        const batch: BenchPayload[] = [];
        for (let i = start; i < Math.min(count, start + 1000); i++) batch.push(make(i));
        queue.addMany(type, batch);
      }
    },
    takeOne: async () => {
      const claimed = queue.getAndMarkJobAsProcessing(type);
      if (!claimed) return false;
      queue.markJobAsDone(claimed.id);
      return true;
    },
    work: async (handler, concurrency) => {
      const workers = Array.from({ length: concurrency }, () =>
        defineWorker(type, (job) => handler(JSON.parse(job.data) as BenchPayload), { queue, logger: quiet }),
      );
      const loops = workers.map((w) => w.start());
      return {
        stop: async () => {
          await Promise.all(workers.map((w) => w.stop()));
          await Promise.allSettled(loops);
        },
      };
    },
    close: async () => {
      queue.close();
    },
  };
}

// liteque needs better-sqlite3 11.9 (12 rejects its transaction callbacks), so it lives in
// bench/liteque/ with its own node_modules, loaded from there.
const requireLiteque = createRequire(join(BENCH, "liteque", "package.json"));

/**
 * liteque 0.8.0: WAL + synchronous=NORMAL from buildDBClient; for `full` the pragma is set on
 * its connection afterwards. No batch enqueue; prefill writes rows through its own drizzle
 * table, with the values its enqueue would write.
 */
export async function openLiteque(options: SubjectOptions): Promise<Subject> {
  const { buildDBClient, SqliteQueue, Runner } = (await import(
    pathToFileURL(requireLiteque.resolve("liteque")).href
  )) as typeof import("liteque");
  const db = buildDBClient(options.path, { runMigrations: options.role !== "producer" });
  // Its better-sqlite3 connection sits on a drizzle field that drizzle's types leave out.
  const connection = (db as unknown as { session: { client: Pick<Database.Database, "pragma" | "close"> } })
    .session.client;
  if (options.durability === "full") connection.pragma("synchronous = FULL");
  const queue = new SqliteQueue<BenchPayload>(options.name, db, {
    defaultJobArgs: { numRetries: 0 },
    keepFailedJobs: false,
  });
  const tasks = db._.fullSchema.tasksTable;
  return {
    addOne: async (payload) => {
      await queue.enqueue(payload);
    },
    addBatch: { reason: "no batch enqueue" },
    prefill: async (count, make) => {
      for (let start = 0; start < count; start += 1000) {
        const rows = [];
        for (let i = start; i < Math.min(count, start + 1000); i++) {
          rows.push({
            queue: options.name,
            payload: JSON.stringify(make(i)),
            numRunsLeft: 1,
            maxNumRuns: 1,
            allocationId: Math.random().toString(36).slice(2),
            priority: 0,
            availableAt: new Date(),
          });
        }
        db.insert(tasks).values(rows).run();
      }
    },
    takeOne: async () => {
      const job = await queue.attemptDequeue({ timeoutSecs: 60 });
      if (!job) return false;
      await queue.finalize(job.id, job.allocationId, "completed");
      return true;
    },
    work: async (handler, concurrency) => {
      const runner = new Runner(
        queue,
        { run: async (job) => handler(job.data) },
        { concurrency, pollIntervalMs: 1000, timeoutSecs: 60 },
      );
      const loop = runner.run();
      return {
        stop: async () => {
          runner.stop();
          await loop;
        },
      };
    },
    close: async () => {
      connection.close();
    },
  };
}
