/*
 * Spool as a benchmark subject: its public API only, at its defaults apart from the
 * durability being measured, exactly as a user's program would call it.
 */
import { Spool } from "../index.js";
import type { BenchPayload } from "./stats.js";
import type { RunningWorker, Subject, SubjectOptions } from "./subject.js";

export async function openSpool(options: SubjectOptions): Promise<Subject> {
  const driver = options.driver === undefined ? {} : { driver: options.driver };
  return spoolSubject(
    await Spool.open(options.path, { durability: options.durability, ...driver }),
    options.name,
  );
}

/** An open Spool (on any store) as a subject working queue `name`; closing it closes the Spool. */
export function spoolSubject(spool: Spool, name: string): Subject {
  const queue = spool.queue<BenchPayload>(name);
  return {
    addOne: async (payload) => {
      await queue.add(payload);
    },
    addBatch: async (payloads) => {
      await queue.addBatch(payloads);
    },
    prefill: async (count, make) => {
      for (let start = 0; start < count; start += 1000) {
        const batch: BenchPayload[] = [];
        for (let i = start; i < Math.min(count, start + 1000); i++) batch.push(make(i));
        await queue.addBatch(batch);
      }
    },
    takeOne: async () => {
      const job = await queue.reserve();
      if (job === null) return false;
      await queue.complete(job);
      return true;
    },
    work: (handler, concurrency): Promise<RunningWorker> => {
      const worker = queue.process(
        async (job) => {
          handler(job.payload);
        },
        { concurrency },
      );
      // An unheard "error" event would crash the run; the figures show a stall instead.
      worker.on("error", () => {});
      return Promise.resolve({ stop: () => worker.stop() });
    },
    close: () => spool.close(),
  };
}
