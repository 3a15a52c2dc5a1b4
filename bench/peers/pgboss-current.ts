// The newest pg-boss (12.x, needs Node 22+) behind the Subject interface. Compiled only in the
// Node 24 build (bench/node24/tsconfig.json). What changed from 10.x for these calls: the class
// is a named export, insert() takes the queue name first, stop() has no `wait` (it waits).
import { PgBoss } from "pg-boss";
import type { BenchPayload } from "../../src/bench/stats.js";
import type { Subject, SubjectOptions } from "../../src/bench/subject.js";
import { dropSchema, PG_URL, prefillWith } from "./server-peers.js";

/**
 * pg-boss at its defaults (poll every 2 s, and still the interval's sleep after every
 * fetch: its burst modes are opt-in; one work() call per unit of concurrency, as since v10). Its own schema in the bench database, dropped before each run.
 */
export async function openPgBoss(options: SubjectOptions): Promise<Subject> {
  const schema = "spool_bench_pgboss";
  if (options.role !== "producer") await dropSchema(schema);
  const boss = new PgBoss({ connectionString: PG_URL, schema });
  boss.on("error", () => {});
  await boss.start();
  if (options.role !== "producer") await boss.createQueue(options.name);
  const addBatch = async (payloads: BenchPayload[]): Promise<void> => {
    await boss.insert(
      options.name,
      payloads.map((data) => ({ data })),
    );
  };
  return {
    addOne: async (payload) => {
      await boss.send(options.name, payload);
    },
    addBatch,
    prefill: (count, make) => prefillWith(addBatch, count, make),
    takeOne: async () => {
      const [job] = await boss.fetch<BenchPayload>(options.name);
      if (!job) return false;
      await boss.complete(options.name, job.id);
      return true;
    },
    work: async (handler, concurrency) => {
      for (let i = 0; i < concurrency; i++) {
        await boss.work<BenchPayload>(options.name, async ([job]) => {
          if (job) handler(job.data);
        });
      }
      return { stop: () => boss.offWork(options.name) };
    },
    close: () => boss.stop({ graceful: true, timeout: 5000 }),
  };
}
