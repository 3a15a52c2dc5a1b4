// An undecodable item a receive makes dead keeps its key like any dead job (a dead job blocks
// no add), on every backend alike; the good items of the batch keep theirs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pickyCodec } from "./codecs.js";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

export function channelDecodeKey(b: BackendFixture): void {
  describe("channel receive meeting an undecodable item: keys", () => {
    test("the dead item keeps its key but blocks no add; the good ones keep theirs", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("keys", { codec: pickyCodec });
      const good = await q.add("good", { key: "g" });
      const bad = await q.add("bad apple", { key: "b" });
      const [, rx] = await spool.channel<string>("keys", { codec: pickyCodec });
      const err = await expectCode(() => rx.recvBatch(5), "DECODE");
      assert.equal(err.jobId, bad);
      const dead = await q.get(bad);
      assert.equal(dead?.state, "dead");
      assert.match(String(dead?.lastError), /cannot decode bad apple/);
      assert.equal(dead?.key, "b");
      assert.notEqual(await q.add("fresh", { key: "b" }), bad, "a dead job's key blocks no add");
      assert.equal((await q.get(good))?.key, "g");
      assert.equal(await q.add("good again", { key: "g" }), good, "the good item still holds its key");
      assert.deepEqual(await rx.recvBatch(5), ["good", "fresh"]);
    });
  });
}
