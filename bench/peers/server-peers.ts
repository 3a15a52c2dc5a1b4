// BullMQ on Redis and graphile-worker on PostgreSQL, behind the Subject interface; pg-boss,
// whose API changed between the Node 20 and the Node 24 sets, has a file per version.
import { Queue, Worker } from "bullmq";
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import type { BenchPayload } from "../../src/bench/stats.js";
import type { Subject, SubjectOptions } from "../../src/bench/subject.js";

export const REDIS = { host: "127.0.0.1", port: 6379 };
export const PG_URL = process.env.SPOOL_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/bench";

/** Fills in batches of 1,000 through the subject's own batch call. */
export async function prefillWith(
  addBatch: (payloads: BenchPayload[]) => Promise<void>,
  count: number,
  make: (i: number) => BenchPayload,
): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const batch: BenchPayload[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) batch.push(make(i));
    await addBatch(batch);
  }
}

/**
 * BullMQ 6.7.0 at its defaults (completed jobs kept, event-driven workers). Each run has its
 * own queue name and obliterates it when done.
 */
export async function openBullmq(options: SubjectOptions): Promise<Subject> {
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const queue = new Queue<BenchPayload>(options.name, { connection });
  let manual: Worker<BenchPayload> | null = null;
  const addBatch = async (payloads: BenchPayload[]): Promise<void> => {
    await queue.addBulk(payloads.map((data) => ({ name: "job", data })));
  };
  return {
    addOne: async (payload) => {
      await queue.add("job", payload);
    },
    addBatch,
    prefill: (count, make) => prefillWith(addBatch, count, make),
    // Its documented manual processing: a worker without a processor, getNextJob, moveToCompleted.
    takeOne: async () => {
      manual ??= new Worker<BenchPayload>(options.name, null, { connection, autorun: false });
      const job = await manual.getNextJob("bench", { block: false });
      if (!job) return false;
      await job.moveToCompleted("done", "bench", false);
      return true;
    },
    work: async (handler, concurrency) => {
      const worker = new Worker<BenchPayload>(options.name, async (job) => handler(job.data), {
        connection,
        concurrency,
      });
      worker.on("error", () => {});
      return { stop: () => worker.close() };
    },
    close: async () => {
      await manual?.close();
      if (options.role !== "producer") await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

/**
 * graphile-worker (0.17.3 on Node 20, 0.18 on Node 24: the calls used here are the same), at its
 * defaults or (`fast`) with its documented batching settings.
 * Its own schema in the bench database, dropped before each run.
 */
export async function openGraphile(options: SubjectOptions, fast: boolean): Promise<Subject> {
  const schema = "spool_bench_graphile";
  const logger = new Logger(() => () => {});
  if (options.role !== "producer") await dropSchema(schema);
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger });
  if (options.role !== "producer") await utils.migrate();
  const task = options.name;
  const addBatch = async (payloads: BenchPayload[]): Promise<void> => {
    await utils.addJobs(payloads.map((payload) => ({ identifier: task, payload })));
  };
  const preset = fast
    ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
    : undefined;
  return {
    addOne: async (payload) => {
      await utils.addJob(task, payload);
    },
    addBatch,
    prefill: (count, make) => prefillWith(addBatch, count, make),
    takeOne: { reason: "no public reserve/complete call" },
    work: async (handler, concurrency) => {
      const runner = await run({
        connectionString: PG_URL,
        schema,
        logger,
        concurrency,
        noHandleSignals: true,
        taskList: { [task]: async (payload) => handler(payload as BenchPayload) },
        ...(preset ? { preset } : {}),
      });
      return { stop: () => runner.stop() };
    },
    close: async () => {
      await utils.release();
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
