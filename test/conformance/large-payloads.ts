// Large payloads, byte for byte, through every path that stores or returns one. On SQLite a
// payload of 4 KiB or more is kept apart from its job's row (read-queries.ts): the sizes around
// that line and far past it must read back the same from every statement, in every state.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type BackendFixture, fresh, T, waitFor } from "./harness.js";

const SIZES = [4095, 4096, 4097, 1_048_579];
const bytesOf = (n: number): Buffer => randomBytes(n);

/** A full collection now, whatever flags the test process was started with (Bun has its own). */
function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return;
  }
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

export function largePayloads(b: BackendFixture): void {
  describe("large payloads", () => {
    test("around 4 KiB and past 1 MB, a payload reads back the same from add to removal", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("big");
      const payloads = SIZES.map(bytesOf);
      const ids: number[] = [];
      for (const p of payloads) ids.push(await q.add(p));
      for (const [i, id] of ids.entries())
        assert.ok((await q.get(id))?.payload.equals(payloads[i] as Buffer));
      const pending = await q.list({ state: "pending" });
      assert.deepEqual(
        pending.map((j) => j.payload.length),
        SIZES,
      );
      // One claim, then a batch claim, then a failure and its retry, then completions.
      const first = await q.reserve();
      assert.ok(first?.payload.equals(payloads[0] as Buffer));
      const rest = await q.reserveBatch(10);
      assert.deepEqual(
        rest.map((j) => j.id),
        ids.slice(1),
      );
      for (const [i, job] of rest.entries()) assert.ok(job.payload.equals(payloads[i + 1] as Buffer));
      await q.fail(rest[2]!, new Error("again"), { retryIn: 0 });
      const again = await q.reserve();
      assert.equal(again?.id, ids[3]);
      assert.ok(again?.payload.equals(payloads[3] as Buffer), "a retried job keeps its payload");
      await q.complete(first!);
      for (const job of rest.slice(0, 2)) await q.complete(job);
      await q.complete(again!);
      const done = await q.list({ state: "completed" });
      assert.deepEqual(
        done.map((j) => j.id),
        ids,
      );
      for (const [i, job] of done.entries())
        assert.ok(job.payload.equals(payloads[i] as Buffer), `completed ${i}`);
      assert.equal(await q.remove(ids[0]!), true);
      assert.equal(await q.get(ids[0]!), null);
      assert.equal(await q.purge({ state: "completed" }), 3);
      assert.equal((await q.size()).total, 0);
    });

    test("a batch mixing small and large payloads keeps each one and their order", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<unknown>("mixed");
      // 120 jobs: more than one multi-row insert's worth, a large one among every ten.
      const values: unknown[] = Array.from({ length: 120 }, (_, i) =>
        i % 10 === 3 ? { i, pad: "é".repeat(2048 + i) } : { i },
      );
      const ids = await q.addBatch(values);
      assert.deepEqual(
        ids,
        ids.map((_, k) => (ids[0] as number) + k),
        "consecutive ids",
      );
      const got = await q.reserveBatch(200);
      assert.deepEqual(
        got.map((j) => j.payload),
        values,
      );
    });

    test("a batch keeps each payload's bytes, empty ones first, last and between", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("slices");
      const awkward = Buffer.from([0, 0x5c, 0x22, 0x27, 0x7b, 0x7d, 0x2c, 0xff, 0x0a]);
      const payloads = [
        Buffer.alloc(0),
        awkward,
        Buffer.alloc(0),
        Buffer.alloc(0),
        randomBytes(70_000),
        Buffer.from("\\x00", "latin1"),
        Buffer.alloc(0),
      ];
      const ids = await q.addBatch(payloads);
      for (const [i, id] of ids.entries())
        assert.ok((await q.get(id))?.payload.equals(payloads[i] as Buffer), `job ${i}`);
      const got = await q.reserveBatch(100);
      assert.deepEqual(
        got.map((j) => j.payload.toString("hex")),
        payloads.map((p) => p.toString("hex")),
      );
      // A bounded channel's send takes the other insert (a transaction with the bound's check).
      const [tx, rx] = await spool.channel<Buffer>("slices-bounded", { maxSize: 100 });
      await tx.sendBatch(payloads);
      assert.deepEqual(
        (await rx.recvBatch(100)).map((p) => p.toString("hex")),
        payloads.map((p) => p.toString("hex")),
      );
    });

    test("a keyed add of a large payload that a live job's key swallows stores nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("keyed");
      const one = bytesOf(10_000);
      const id = await q.add(one, { key: "k" });
      assert.equal(await q.add(bytesOf(20_000), { key: "k" }), id);
      assert.equal((await q.size()).total, 1);
      assert.ok((await q.reserve())?.payload.equals(one));
    });

    test("a worker with prefetch runs large payloads whole, in order", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("work");
      const payloads = Array.from({ length: 12 }, (_, i) => bytesOf(i % 2 === 0 ? 300_000 : 100));
      for (const p of payloads) await q.add(p);
      const seen: Buffer[] = [];
      const w = q.process(
        async (job) => {
          seen.push(job.payload);
        },
        { concurrency: 4 },
      );
      t.after(() => w.stop());
      await waitFor("every job completed", async () => (await q.size()).completed === payloads.length);
      await w.stop();
      assert.deepEqual(
        seen.map((p) => payloads.findIndex((x) => x.equals(p))).sort((a, c) => a - c),
        payloads.map((_, i) => i),
      );
    });

    test("a running job's stored bytes are free to collect once decoded", T, async (t) => {
      // Held until the job's completion commits, the bytes of every job in flight stayed in
      // memory beside their decoded values: a drain of 1 MB payloads peaked ~50 MB higher.
      const { spool } = await fresh(b, t);
      const stored: Array<WeakRef<ArrayBufferLike>> = [];
      const q = spool.queue<number>("released", {
        codec: {
          encode: (n) => Buffer.alloc(1_048_576, n),
          decode: (bytes) => {
            stored.push(new WeakRef(bytes.buffer));
            return bytes[0] as number;
          },
        },
      });
      await q.add(7);
      const kept: boolean[] = [];
      const w = q.process(async (job) => {
        assert.equal(job.payload, 7);
        await new Promise((resolve) => setImmediate(resolve));
        collectGarbage();
        kept.push(stored.some((ref) => ref.deref() !== undefined));
      });
      t.after(() => w.stop());
      await waitFor("the job completed", async () => (await q.size()).completed === 1);
      await w.stop();
      assert.deepEqual(kept, [false], "the stored bytes were still reachable while the handler ran");
    });

    test("a channel sends and receives large items one by one and in batches", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<Buffer>("pipe");
      const items = [bytesOf(10), bytesOf(5000), bytesOf(4096), bytesOf(1_000_000), bytesOf(3)];
      for (const item of items) await tx.send(item);
      assert.ok((await rx.recv())?.equals(items[0] as Buffer));
      assert.ok((await rx.recv())?.equals(items[1] as Buffer));
      const batch = await rx.recvBatch(10);
      assert.equal(batch.length, 3);
      for (const [i, item] of batch.entries())
        assert.ok(item.equals(items[i + 2] as Buffer), `batch item ${i}`);
      await tx.sendBatch(items);
      const again = await rx.recvBatch(10);
      assert.deepEqual(
        again.map((x) => x.length),
        items.map((x) => x.length),
      );
      assert.equal(await rx.len(), 0);
    });
  });
}
