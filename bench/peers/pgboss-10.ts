// pg-boss 10.4.2, the newest that runs on Node 20, behind the Subject interface. Compiled only in
// the Node 20 build (bench/tsconfig.json); bench/node24/ has the newest pg-boss, in pgboss-current.ts.
import PgBoss from "pg-boss";
import type { BenchPayload } from "../../src/bench/stats.js";
import type { Subject, SubjectOptions } from "../../src/bench/subject.js";
import { dropSchema, PG_URL, prefillWith } from "./server-peers.js";

/**
 * pg-boss 10.4.2 at its defaults (poll every 2 s; one work() call per unit of concurrency, as
 * v10 dropped teamSize). Its own schema in the bench database, dropped before each run.
 */
export async function openPgBoss(options: SubjectOptions): Promise<Subject> {
  const schema = "spool_bench_pgboss";
  if (options.role !== "producer") await dropSchema(schema);
  const boss = new PgBoss({ connectionString: PG_URL, schema });
  boss.on("error", () => {});
  await boss.start();
  if (options.role !== "producer") await boss.createQueue(options.name);
  const addBatch = async (payloads: BenchPayload[]): Promise<void> => {
    await boss.insert(payloads.map((data) => ({ name: options.name, data })));
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
    close: () => boss.stop({ graceful: true, wait: true, timeout: 5000 }),
  };
}
