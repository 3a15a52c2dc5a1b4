// Type tests for the public API: checked by `npm run typecheck` (tsc over test/), so a change
// that loosens a public type to `any` or breaks a signature fails CI. The runtime part only
// proves the calls these types describe really work.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Job,
  type JobInfo,
  type QueueSize,
  type Receiver,
  type Sender,
  Spool,
  SpoolError,
  type SpoolErrorCode,
  type Worker,
} from "../../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

interface Email {
  to: string;
}

/** Never called: each line must fail to compile, and tsc checks that it does. */
function misuse(spool: Spool): void {
  const q = spool.queue<Email>("emails");
  // @ts-expect-error a payload of the wrong shape
  void q.add({ too: "x" });
  // @ts-expect-error unknown add option
  void q.add({ to: "x" }, { priorty: 1 });
  // @ts-expect-error list needs a state
  void q.list({});
  // @ts-expect-error not a state
  void q.list({ state: "running" });
  // @ts-expect-error purge takes finished states only
  void q.purge({ state: "pending" });
  // @ts-expect-error durability levels are fixed
  void Spool.open("x.db", { durability: "fast" });
}

test("the public API's types hold and describe working calls", async () => {
  const spool = await Spool.open(":memory:");
  const q = spool.queue<Email>("emails");
  const id = await q.add({ to: "ada@example.com" });
  expectType<Equal<typeof id, number>>(true);
  const ids = await q.addBatch([{ to: "b" }]);
  expectType<Equal<typeof ids, number[]>>(true);
  const job = await q.reserve();
  expectType<Equal<typeof job, Job<Email> | null>>(true);
  assert.ok(job);
  expectType<Equal<typeof job.payload, Email>>(true);
  const outcome = await q.fail(job, new Error("x"), { retryIn: 0 });
  expectType<Equal<typeof outcome, "pending" | "dead">>(true);
  const info = await q.get(id);
  expectType<Equal<typeof info, JobInfo<Email> | null>>(true);
  const size = await q.size();
  expectType<Equal<typeof size, QueueSize>>(true);
  const worker = q.process(async (j, { signal, extend }) => {
    expectType<Equal<typeof j, Job<Email>>>(true);
    expectType<Equal<typeof signal, AbortSignal>>(true);
    expectType<Equal<typeof extend, (ms?: number) => Promise<void>>>(true);
    return j.payload.to.length;
  });
  expectType<Equal<typeof worker, Worker<Email>>>(true);
  worker.on("failed", (failed, _error, state) => {
    expectType<Equal<typeof failed, Job<Email>>>(true);
    expectType<Equal<typeof state, "pending" | "dead">>(true);
  });
  await worker.stop();
  const [tx, rx] = await spool.channel<number>("numbers");
  expectType<Equal<typeof tx, Sender<number>>>(true);
  expectType<Equal<typeof rx, Receiver<number>>>(true);
  await tx.send(1);
  const item = await rx.recv();
  expectType<Equal<typeof item, number | undefined>>(true);
  assert.equal(item, 1);
  const error = await spool
    .queue("x")
    .get(0)
    .catch((e: unknown) => e);
  assert.ok(error instanceof SpoolError);
  expectType<Equal<typeof error.code, SpoolErrorCode>>(true);
  await spool.close();
  if (process.env.NEVER) misuse(spool);
});
