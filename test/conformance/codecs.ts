import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import type { Codec } from "../../src/types.js";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

/** Stores strings as UTF-8; refuses to decode bytes that start with "bad". */
export const pickyCodec: Codec<string> = {
  encode: (s) => Buffer.from(s, "utf8"),
  decode: (bytes) => {
    const s = Buffer.from(bytes).toString("utf8");
    if (s.startsWith("bad")) throw new Error(`cannot decode ${s}`);
    return s;
  },
};

export function codecs(b: BackendFixture): void {
  describe("codecs", () => {
    test("the default codec round-trips JSON values", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<unknown>("json");
      const values: unknown[] = [
        { a: 1, nested: { list: [1, "two", null, true], empty: {} } },
        [1, 2, 3],
        "a string with ünïcødé and emoji 🎉 and \u0000 nul",
        42,
        -0.5,
        true,
        false,
        null,
        "",
        { big: "x".repeat(10_000) },
      ];
      const ids = await q.addBatch(values);
      for (const [i, id] of ids.entries()) assert.deepEqual((await q.get(id))?.payload, values[i]);
      for (const v of values) assert.deepEqual((await q.reserve())?.payload, v);
    });

    test("a Buffer payload comes back as an identical Buffer", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("buf");
      const bytes = Buffer.from([0, 1, 2, 255, 254, 0x7b, 0x22]);
      const id = await q.add(bytes);
      const got = (await q.reserve())!.payload;
      assert.ok(Buffer.isBuffer(got), "a Buffer");
      assert.ok(got.equals(bytes));
      const info = await q.get(id);
      assert.ok(Buffer.isBuffer(info?.payload) && info.payload.equals(bytes), "get returns the Buffer too");
      const empty = await q.add(Buffer.alloc(0));
      const e = await q.get(empty);
      assert.ok(Buffer.isBuffer(e?.payload) && e.payload.length === 0, "an empty Buffer");
    });

    test("a Uint8Array payload comes back as a Buffer with the same bytes", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Uint8Array>("u8");
      const arr = new Uint8Array([9, 8, 7, 0, 6]);
      await q.add(arr);
      const got = (await q.reserve())!.payload;
      assert.ok(Buffer.isBuffer(got));
      assert.deepEqual([...got], [...arr]);
    });

    test("a 1 MB random payload round-trips byte for byte", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("big");
      const bytes = randomBytes(1024 * 1024);
      await q.add(bytes);
      const got = (await q.reserve())!.payload;
      assert.ok(Buffer.isBuffer(got));
      assert.equal(got.length, bytes.length);
      assert.ok(got.equals(bytes), "identical bytes");
    });

    test('codec "json" round-trips JSON values', T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<{ x: number[] }>("jsoncodec", { codec: "json" });
      await q.add({ x: [1, 2] });
      assert.deepEqual((await q.reserve())?.payload, { x: [1, 2] });
    });

    test('codec "binary" round-trips bytes and refuses other values with ENCODE', T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Uint8Array>("bincodec", { codec: "binary" });
      const bytes = randomBytes(100);
      await q.add(bytes);
      const got = (await q.reserve())!.payload;
      assert.ok(Buffer.isBuffer(got) && got.equals(bytes));
      await expectCode(() => q.add("text" as unknown as Uint8Array), "ENCODE");
      assert.equal((await q.size()).total, 1);
    });

    test("a custom codec encodes on add and decodes on reserve, get and list", T, async (t) => {
      const { spool } = await fresh(b, t);
      let encoded = 0;
      const codec: Codec<{ n: number }> = {
        encode: (v) => {
          encoded++;
          return Buffer.from(`n=${v.n}`);
        },
        decode: (bytes) => ({ n: Number(Buffer.from(bytes).toString().slice(2)) }),
      };
      const q = spool.queue("custom", { codec });
      const id = await q.add({ n: 7 });
      assert.equal(encoded, 1);
      assert.deepEqual((await q.get(id))?.payload, { n: 7 });
      assert.deepEqual((await q.list({ state: "pending" }))[0]?.payload, { n: 7 });
      assert.deepEqual((await q.reserve())?.payload, { n: 7 });
    });

    for (const [what, value] of [
      ["undefined", undefined],
      ["a function", () => 1],
      ["a BigInt", 10n],
      ["a cycle", cyclic()],
    ] as const) {
      test(`a payload of ${what} rejects with ENCODE and writes nothing`, T, async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue<unknown>("enc");
        await expectCode(() => q.add(value), "ENCODE");
        assert.equal((await q.size()).total, 0);
      });
    }

    test("a batch with one unencodable item writes none", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<unknown>("encbatch");
      await expectCode(() => q.addBatch([1, 2, { n: 3n }, 4]), "ENCODE");
      assert.equal((await q.size()).total, 0);
      assert.deepEqual(await spool.queues(), []);
    });

    test(
      "an undecodable payload makes reserve reject DECODE, the job dead, and the next reserve go on",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("picky", { codec: pickyCodec });
        const [ok1, bad, ok2] = await q.addBatch(["ok1", "bad one", "ok2"]);
        assert.equal((await q.reserve())?.id, ok1);
        const err = await expectCode(() => q.reserve(), "DECODE");
        assert.equal(err.jobId, bad);
        const info = await q.get(bad!);
        assert.equal(info?.state, "dead");
        assert.match(info?.lastError ?? "", /cannot decode bad one/);
        assert.ok(Buffer.isBuffer(info?.payload), "get returns the raw bytes as a Buffer");
        assert.equal((info!.payload as unknown as Buffer).toString(), "bad one");
        const listed = await q.list({ state: "dead" });
        assert.equal(listed.length, 1);
        assert.ok(Buffer.isBuffer(listed[0]?.payload), "list returns the raw bytes as a Buffer");
        assert.equal((await q.reserve())?.id, ok2, "the next reserve goes on");
      },
    );

    test(
      "reserveBatch meeting an undecodable payload rejects DECODE and leaves the others reservable",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("picky-batch", { codec: pickyCodec });
        const [bad, ok] = await q.addBatch(["bad", "fine"]);
        const err = await expectCode(() => q.reserveBatch(10), "DECODE");
        assert.equal(err.jobId, bad);
        assert.equal((await q.get(bad!))?.state, "dead");
        const next = await q.reserveBatch(10);
        assert.deepEqual(
          next.map((j) => j.id),
          [ok],
          "the good job is not stranded",
        );
      },
    );

    test("a payload over maxPayloadBytes rejects PAYLOAD_TOO_LARGE and writes nothing", T, async (t) => {
      const { spool } = await fresh(b, t, { maxPayloadBytes: 1000 });
      const q = spool.queue<Buffer>("limit");
      await q.add(Buffer.alloc(1000));
      await expectCode(() => q.add(Buffer.alloc(1001)), "PAYLOAD_TOO_LARGE", "1001");
      await expectCode(() => q.addBatch([Buffer.alloc(10), Buffer.alloc(5000)]), "PAYLOAD_TOO_LARGE");
      await expectCode(() => spool.queue<string>("limit2").add("y".repeat(2000)), "PAYLOAD_TOO_LARGE");
      assert.equal((await q.size()).total, 1);
      assert.equal((await spool.queue("limit2").size()).total, 0);
    });
  });
}

function cyclic(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}
