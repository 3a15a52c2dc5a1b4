// plainjob and liteque, the SQLite peers, behind the benchmark's Subject interface.
import { createRequire } from "node:module";
import Database from "better-sqlite3";
import { better, defineQueue, defineWorker } from "plainjob";

/** @typedef {import("../../dist/bench/subject.js").Subject} Subject */
/** @typedef {import("../../dist/bench/subject.js").SubjectOptions} SubjectOptions */

// Both libraries log every job by default; a quiet logger keeps the terminal out of the timing.
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * plainjob 0.0.14: hard-codes WAL + synchronous=NORMAL in defineQueue; for `full` the pragma is
 * set again on its connection afterwards. It has no concurrency option, so concurrency N is N
 * worker loops in one process, as its README does with processes.
 * @param {SubjectOptions} options
 * @returns {Promise<Subject>}
 */
export async function openPlainjob(options) {
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
        const batch = [];
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
        defineWorker(type, (job) => handler(JSON.parse(job.data)), { queue, logger: quiet }),
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
const requireLiteque = createRequire(new URL("../liteque/package.json", import.meta.url));

/**
 * liteque 0.8.0: WAL + synchronous=NORMAL from buildDBClient; for `full` the pragma is set on
 * its connection afterwards. No batch enqueue; prefill writes rows through its own drizzle
 * table, with the values its enqueue would write.
 * @param {SubjectOptions} options
 * @returns {Promise<Subject>}
 */
export async function openLiteque(options) {
  const { buildDBClient, SqliteQueue, Runner } = await import(requireLiteque.resolve("liteque"));
  const db = buildDBClient(options.path, { runMigrations: options.role !== "producer" });
  if (options.durability === "full") db.session.client.pragma("synchronous = FULL");
  const queue = new SqliteQueue(options.name, db, {
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
      db.session.client.close();
    },
  };
}
