// Spool and BullMQ on PostgreSQL, behind the Subject interface, beside pg-boss and
// graphile-worker (server-peers.ts) on the same server and database.
import { createPostgresBackend, withBackend } from "bullmq";
import pg from "pg";
import { spoolSubject } from "../../src/bench/spool-subject.js";
import type { BenchPayload } from "../../src/bench/stats.js";
import type { Subject, SubjectOptions } from "../../src/bench/subject.js";
import { Spool } from "../../src/index.js";
import { PG_URL, prefillWith } from "./server-peers.js";

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Spool on PostgreSQL at its defaults (durability "full": the server's synchronous_commit),
 * its own schema in the bench database, dropped before each run.
 */
export async function openSpoolPg(options: SubjectOptions): Promise<Subject> {
  const schema = "spool_bench_spool";
  if (options.role !== "producer") await dropSchema(schema);
  const spool = await Spool.open(PG_URL, { schema });
  return spoolSubject(spool, options.name);
}

/**
 * BullMQ 6.7.0 on its PostgreSQL backend (createPostgresBackend), at its defaults otherwise
 * (completed jobs kept). Its own schema, dropped before each run.
 */
export async function openBullmqPg(options: SubjectOptions): Promise<Subject> {
  const schema = "spool_bench_bullmq";
  if (options.role !== "producer") await dropSchema(schema);
  const { Queue, Worker } = withBackend(createPostgresBackend);
  const connection = { connectionString: PG_URL, schema, migrate: true };
  const queue = new Queue<BenchPayload>(options.name, { connection });
  await queue.waitUntilReady();
  const manualWorker = () => new Worker<BenchPayload>(options.name, null, { connection, autorun: false });
  let manual: ReturnType<typeof manualWorker> | null = null;
  const addBatch = async (payloads: BenchPayload[]): Promise<void> => {
    await queue.addBulk(payloads.map((data) => ({ name: "job", data })));
  };
  return {
    addOne: async (payload) => {
      await queue.add("job", payload);
    },
    addBatch,
    prefill: (count, make) => prefillWith(addBatch, count, make),
    takeOne: async () => {
      manual ??= manualWorker();
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
      await queue.close();
    },
  };
}
