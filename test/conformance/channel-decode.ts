// A receive that meets an undecodable item: the bad item becomes dead and the good ones stay
// where they were, in one transaction, so nothing that happens meanwhile (an add with a good
// item's key, a crash) can lose a good item.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SpoolError } from "../../src/index.js";
import type { Codec } from "../../src/types.js";
import { pickyCodec } from "./codecs.js";
import { type BackendFixture, child, childTarget, expectCode, fresh, T, waitFor } from "./harness.js";

export function channelDecode(b: BackendFixture): void {
  describe("channel receive meeting an undecodable item", () => {
    test("an add with a good item's key during the receive finds that item still there", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("keyed", { codec: pickyCodec });
      let readd: Promise<number> | undefined;
      // Decoding the bad item adds a job with the good item's key: that add lands while the
      // receive is between taking the batch and putting the good item back.
      const codec: Codec<string> = {
        encode: pickyCodec.encode,
        decode: (bytes) => {
          if (Buffer.from(bytes).toString("utf8").startsWith("bad"))
            readd ??= q.add("good again", { key: "k" });
          return pickyCodec.decode(bytes);
        },
      };
      const [, rx] = await spool.channel<string>("keyed", { codec });
      const good = await q.add("good", { key: "k" });
      const bad = await q.add("bad apple");
      const err = await expectCode(() => rx.recvBatch(5), "DECODE");
      assert.equal(err.jobId, bad);
      assert.equal(await readd, good, "the add met the good item, still live with its key");
      assert.equal((await q.get(bad))?.state, "dead");
      assert.deepEqual(await rx.recvBatch(5), ["good"], "the good item, once");
      assert.deepEqual(await rx.recvBatch(5), []);
      assert.deepEqual(await q.size(), {
        waiting: 0,
        pending: 0,
        delayed: 0,
        reserved: 0,
        completed: 0,
        dead: 1,
        total: 1,
        paused: false,
      });
    });

    test("good items keep their order around several bad ones", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("order", { codec: pickyCodec });
      await tx.sendBatch(["one", "bad apple", "two", "bad pear", "three"]);
      const first = await expectCode(() => rx.recvBatch(10), "DECODE");
      const q = spool.queue("order");
      const dead = (await q.list({ state: "dead" })).map((j) => j.id);
      assert.deepEqual(dead.length, 2, "every undecodable item of the batch is dead");
      assert.equal(first.jobId, dead[0], "the error names the first");
      assert.deepEqual(await rx.recvBatch(10), ["one", "two", "three"]);
      assert.equal(await rx.len(), 0);
    });
  });
}

const P = { timeout: 120_000 } as const;

export function channelDecodeCrash(b: BackendFixture): void {
  describe("channel receive meeting an undecodable item, in another process", () => {
    test("a receiver SIGKILLed while decoding its batch loses no item", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("crash", { codec: pickyCodec });
      await tx.sendBatch(["one", "bad apple", "two"]);
      const c = child(t, "recv-stuck.ts", childTarget(target), "crash");
      await c.waitLine(/^stuck$/, 60_000);
      c.kill("SIGKILL");
      await c.exit;
      assert.equal(await rx.len(), 3, "the whole batch is still there");
      // PostgreSQL rolls the dead receiver's transaction back once its server process sees the
      // closed socket, a moment after the child exits: until then the batch is locked and a
      // receive skips it (an empty batch). Wait for that, then the batch is whole again.
      let taken: unknown;
      await waitFor("the dead receiver's batch to be receivable again", async () => {
        try {
          const got = await rx.recvBatch(10);
          assert.deepEqual(got, [], "nothing is received before the bad item is met");
          return false;
        } catch (err) {
          taken = err;
          return true;
        }
      });
      assert.ok(
        taken instanceof SpoolError && taken.code === "DECODE",
        `expected DECODE, got ${String(taken)}`,
      );
      assert.deepEqual(await rx.recvBatch(10), ["one", "two"]);
    });
  });
}
