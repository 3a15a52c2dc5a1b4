import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { channel } from "../../src/index.js";
import type { Durability } from "../../src/types.js";
import { pickyCodec } from "./codecs.js";
import { type BackendFixture, clockPast, expectCode, fresh, T, waitFor } from "./harness.js";

export function channels(b: BackendFixture): void {
  describe("channel", () => {
    test("recv returns items in the order sent, then undefined", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<number>("order");
      for (let i = 0; i < 20; i++) await tx.send(i);
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push((await rx.recv())!);
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.equal(await rx.recv(), undefined);
    });

    test("sendBatch and recvBatch move items oldest first", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("batches");
      await tx.sendBatch(["a", "b", "c"]);
      await tx.send("d");
      assert.deepEqual(await rx.recvBatch(2), ["a", "b"]);
      assert.deepEqual(await rx.recvBatch(10), ["c", "d"]);
      assert.deepEqual(await rx.recvBatch(10), []);
    });

    test("len and isEmpty count items not yet received, on both ends", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<number>("len");
      assert.equal(await tx.isEmpty(), true);
      assert.equal(await rx.isEmpty(), true);
      await tx.sendBatch([1, 2, 3]);
      assert.equal(await tx.len(), 3);
      assert.equal(await rx.len(), 3);
      assert.equal(await rx.isEmpty(), false);
      await rx.recv();
      assert.equal(await tx.len(), 2);
      await rx.clear();
      assert.equal(await rx.len(), 0);
      assert.equal(await tx.isEmpty(), true);
      assert.equal(await rx.recv(), undefined);
    });

    test("a received item is gone from the store", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("gone");
      await tx.send("x");
      assert.equal(await rx.recv(), "x");
      assert.equal((await spool.queue("gone").size()).total, 0);
    });

    test("a full channel makes send wait until recv makes room", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("full", { maxSize: 2 });
      await tx.send("a");
      await tx.send("b");
      let sent = false;
      const sending = tx.send("c").then(() => {
        sent = true;
      });
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      assert.equal(sent, false, "send waits while full");
      assert.equal(await tx.len(), 2, "nothing written while waiting");
      assert.equal(await rx.recv(), "a");
      await waitFor("the waiting send to go through", () => sent);
      await sending;
      assert.deepEqual(await rx.recvBatch(10), ["b", "c"]);
    });

    test("a send that times out while full rejects QUEUE_FULL and writes nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("timeout", { maxSize: 1 });
      await tx.send("a");
      await expectCode(() => tx.send("b", { timeout: 100 }), "QUEUE_FULL");
      assert.equal(await tx.len(), 1);
      assert.deepEqual(await rx.recvBatch(5), ["a"]);
    });

    test("a send waiting for room when its sender closes rejects CLOSED and writes nothing", T, async (t) => {
      // Found by review: the waiting send delivered its item after close() had resolved.
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("close-waiting", { maxSize: 1 });
      await tx.send("a");
      const sending = tx.send("b");
      await tx.close();
      await expectCode(() => sending, "CLOSED");
      assert.equal(await rx.recv(), "a");
      assert.equal(await rx.len(), 0, "the waiting send wrote its item after close");
    });

    test("aborting a waiting send rejects with the signal's reason and writes nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx] = await spool.channel<string>("abort", { maxSize: 1 });
      await tx.send("a");
      const ac = new AbortController();
      const reason = new Error("caller gave up");
      const sending = tx.send("b", { signal: ac.signal });
      ac.abort(reason);
      await assert.rejects(sending, (err) => err === reason);
      const pre = new AbortController();
      pre.abort(reason);
      await assert.rejects(tx.send("c", { signal: pre.signal }), (err) => err === reason);
      assert.equal(await tx.len(), 1);
    });

    test(
      "a batch larger than maxSize is QUEUE_FULL at once; a batch waits for room for all",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const [tx, rx] = await spool.channel<number>("bigbatch", { maxSize: 3 });
        await expectCode(() => tx.sendBatch([1, 2, 3, 4]), "QUEUE_FULL", "4");
        assert.equal(await tx.len(), 0);
        await tx.sendBatch([1, 2]);
        let sent = false;
        const sending = tx.sendBatch([3, 4]).then(() => {
          sent = true;
        });
        for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
        assert.equal(sent, false);
        assert.equal(await tx.len(), 2, "nothing partial written");
        assert.equal(await rx.recv(), 1);
        await waitFor("the batch to fit", () => sent);
        await sending;
        assert.deepEqual(await rx.recvBatch(10), [2, 3, 4]);
        await tx.sendBatch([5, 6, 7]);
        await expectCode(() => tx.sendBatch([8], { timeout: 50 }), "QUEUE_FULL");
        assert.equal(await tx.len(), 3);
      },
    );

    test("async iteration yields items as they come and ends when the receiver closes", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<number>("iter");
      await tx.send(1);
      const got: number[] = [];
      const loop = (async () => {
        for await (const item of rx) got.push(item);
      })();
      await waitFor("the first item", () => got.length === 1);
      await tx.sendBatch([2, 3]);
      await waitFor("items sent while iterating", () => got.length === 3);
      await rx.close();
      await loop;
      assert.deepEqual(got, [1, 2, 3]);
    });

    test(
      "an undecodable item makes recv reject DECODE, goes dead in the queue, and recv goes on",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const [tx, rx] = await spool.channel("deadletters", { codec: pickyCodec });
        await tx.sendBatch(["one", "bad apple", "two"]);
        assert.equal(await rx.recv(), "one");
        const err = await expectCode(() => rx.recv(), "DECODE");
        assert.ok(typeof err.jobId === "number");
        assert.equal(await rx.recv(), "two", "the next recv goes on");
        assert.equal(await rx.len(), 0, "dead letters are not counted");
        const q = spool.queue("deadletters");
        const info = await q.get(err.jobId!);
        assert.equal(info?.state, "dead");
        assert.match(info?.lastError ?? "", /cannot decode bad apple/);
        assert.deepEqual(
          (await q.list({ state: "dead" })).map((j) => j.id),
          [err.jobId],
        );
        await rx.clear();
        assert.equal((await q.size()).dead, 1, "clear keeps dead letters");
        assert.equal(await q.retry([err.jobId!]), 1, "dead letters are retryable");
        assert.equal(await tx.len(), 1);
        await expectCode(() => rx.recvBatch(5), "DECODE");
      },
    );

    test("concurrent senders each keep their own order and lose nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<{ s: number; i: number }>("many");
      const senders = 5;
      const each = 30;
      await Promise.all(
        Array.from({ length: senders }, async (_, s) => {
          for (let i = 0; i < each; i++) await tx.send({ s, i });
        }),
      );
      const got: Array<{ s: number; i: number }> = [];
      for (let batch = await rx.recvBatch(40); batch.length > 0; batch = await rx.recvBatch(40))
        got.push(...batch);
      assert.equal(got.length, senders * each);
      for (let s = 0; s < senders; s++) {
        assert.deepEqual(
          got.filter((x) => x.s === s).map((x) => x.i),
          Array.from({ length: each }, (_, i) => i),
        );
      }
    });

    test("concurrent sends at the limit never exceed maxSize", T, async (t) => {
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<number>("bounded", { maxSize: 4 });
      const total = 40;
      let received = 0;
      const sends = Promise.all(Array.from({ length: total }, (_, i) => tx.send(i)));
      while (received < total) {
        const n = await rx.len();
        assert.ok(n <= 4, `len ${n} exceeds maxSize`);
        received += (await rx.recvBatch(2)).length;
        await new Promise((r) => setImmediate(r));
      }
      await sends;
      assert.equal(await rx.len(), 0);
    });

    test("sent items survive closing and reopening", T, async (t) => {
      if (!b.persistent) return t.skip("the backend does not persist");
      const { spool, reopen } = await fresh(b, t);
      const [tx] = await spool.channel<string>("persist");
      await tx.sendBatch(["a", "b"]);
      await tx.send("c");
      await spool.close();
      const again = await reopen();
      const [, rx] = await again.channel<string>("persist");
      assert.deepEqual(await rx.recvBatch(10), ["a", "b", "c"]);
    });

    for (const durability of ["off", "normal", "full", "extra"] as Durability[]) {
      test(`durability ${durability}: items go through and survive a reopen`, T, async (t) => {
        const { spool, reopen } = await fresh(b, t, { durability });
        const [tx, rx] = await spool.channel<number>("dur");
        await tx.sendBatch([1, 2]);
        await tx.send(3);
        assert.equal(await rx.recv(), 1);
        if (!b.persistent) return;
        await spool.close();
        const [, rx2] = await (await reopen()).channel<number>("dur");
        assert.deepEqual(await rx2.recvBatch(10), [2, 3]);
      });
    }

    test("the standalone channel(path, name) opens its own store", T, async (t) => {
      if (b.kind !== "sqlite") return t.skip("channel(path) is tested on SQLite targets");
      const target = await b.newTarget();
      t.after(() => target.cleanup());
      const [tx, rx] = await channel<string>(target.target, "standalone", {
        maxSize: 10,
        durability: "normal",
      });
      await tx.sendBatch(["x", "y"]);
      assert.equal(await rx.recv(), "x");
      await tx.close();
      await rx.close();
      if (!b.persistent) return;
      const [tx2, rx2] = await channel<string>(target.target, "standalone");
      assert.deepEqual(await rx2.recvBatch(5), ["y"], "survives closing both ends and reopening");
      await tx2.close();
      await rx2.close();
    });

    test(
      "a receive serves a job whose lease lapsed in its claim order, even when batches come back full",
      T,
      async (t) => {
        // Found by review: PostgreSQL's take rescued only after a short take, so a receiver whose
        // takes came back full never saw a lapsed job come back.
        const { spool } = await fresh(b, t);
        const q = spool.queue<string>("lapsed-recv");
        const [, rx] = await spool.channel<string>("lapsed-recv");
        await q.addBatch(["a", "b", "c"]);
        const held = await q.reserve({ lease: 300 });
        assert.equal(held?.payload, "a");
        await clockPast(held.leaseUntil);
        assert.equal(await rx.recv(), "a", "the lapsed job is first in claim order");
      },
    );

    test("a standalone channel with a bad option is INVALID_ARGUMENT and creates no file", T, async (t) => {
      // Found by review: the store was opened (and its file made) before the options were checked.
      if (b.kind !== "sqlite" || !b.persistent) return t.skip("a file target shows what was created");
      const target = await b.newTarget();
      t.after(() => target.cleanup());
      for (const bad of [{ maxSize: 0 }, { codec: 5 }, { bogus: 1 }]) {
        await expectCode(() => channel(target.target, "bad", bad as never), "INVALID_ARGUMENT");
        assert.equal(existsSync(target.target), false, `${JSON.stringify(bad)} created the file`);
      }
    });

    test("sendSync commits before returning and is QUEUE_FULL at once when full (SQLite)", T, async (t) => {
      if (b.kind !== "sqlite") return t.skip("sendSync is SQLite only");
      const { spool } = await fresh(b, t);
      const [tx, rx] = await spool.channel<string>("sync", { maxSize: 1 });
      tx.sendSync("now");
      assert.equal(await rx.len(), 1);
      const err = await expectCode(() => tx.sendSync("over"), "QUEUE_FULL");
      assert.ok(err);
      assert.equal(await rx.recv(), "now");
    });
  });
}
