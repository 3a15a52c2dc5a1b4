// Type tests for payload schemas: a queue made with a Standard Schema takes the schema's input
// in add and hands handlers its output. Checked by `npm run typecheck`; the runtime part proves
// the calls really work.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as v from "valibot";
import { z } from "zod";
import { type Job, type Queue, Spool } from "../../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

const zodSchema = z.object({ to: z.string(), tries: z.number().default(1) });
const valibotSchema = v.object({
  id: v.pipe(
    v.string(),
    v.transform((s) => Number(s)),
  ),
});

/** Never called: each line must fail to compile, and tsc checks that it does. */
function misuse(spool: Spool): void {
  const q = spool.queue("emails", { schema: zodSchema });
  // @ts-expect-error the schema's input needs `to`
  void q.add({ tries: 2 });
  // @ts-expect-error `to` is a string
  void q.addBatch([{ to: 1 }]);
  const w = spool.queue("ids", { schema: valibotSchema });
  // @ts-expect-error the input is a string id, not the number the transform outputs
  void w.add({ id: 7 });
}

test("a schema's input and output types are inferred (zod, valibot)", async () => {
  const spool = await Spool.open(":memory:");
  const q = spool.queue("emails", { schema: zodSchema });
  expectType<
    Equal<typeof q, Queue<{ to: string; tries: number }, { to: string; tries?: number | undefined }>>
  >(true);
  await q.add({ to: "ada@example.com" }); // `tries` may be left out: the input allows it
  const job = await q.reserve();
  expectType<Equal<typeof job, Job<{ to: string; tries: number }> | null>>(true);
  assert.deepEqual(job?.payload, { to: "ada@example.com", tries: 1 });

  const ids = spool.queue("ids", { schema: valibotSchema });
  await ids.add({ id: "7" });
  const worker = ids.process(async (j) => {
    expectType<Equal<typeof j.payload, { id: number }>>(true);
    assert.equal(j.payload.id, 7);
  });
  await new Promise<void>((resolve) => worker.once("completed", () => resolve()));
  await worker.stop();

  // Without a schema nothing changes: one type for both.
  const plain = spool.queue<{ n: number }>("plain");
  expectType<Equal<typeof plain, Queue<{ n: number }, { n: number }>>>(true);
  await spool.close();
  void misuse;
});
