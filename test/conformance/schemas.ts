// Payload schemas: a queue's Standard Schema is checked on every add, before anything is written,
// and what it outputs is what is stored. Proven with two real validators (zod and valibot).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import vm from "node:vm";
import * as v from "valibot";
import { z } from "zod";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

const emailZod = z.object({ to: z.string().includes("@"), tries: z.number().int().default(1) });
const emailValibot = v.object({
  to: v.pipe(v.string(), v.includes("@")),
  tries: v.optional(v.pipe(v.number(), v.integer()), 1),
});

export function schemas(b: BackendFixture): void {
  describe("payload schemas", () => {
    for (const [vendor, schema] of [
      ["zod", emailZod],
      ["valibot", emailValibot],
    ] as const) {
      test(`${vendor}: a valid payload is stored as the schema outputs it`, T, async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("emails", { schema });
        const id = await q.add({ to: "ada@example.com" });
        const job = await q.reserve();
        assert.equal(job?.id, id);
        // The schema's default was filled in before storing: the handler sees the output.
        assert.deepEqual(job?.payload, { to: "ada@example.com", tries: 1 });
      });

      test(
        `${vendor}: a bad payload is INVALID_ARGUMENT with the issues in cause, nothing written`,
        T,
        async (t) => {
          const { spool } = await fresh(b, t);
          const q = spool.queue("emails", { schema });
          const err = await expectCode(
            () => q.add({ to: "nobody", tries: 1.5 } as never),
            "INVALID_ARGUMENT",
            "payload",
            "schema",
            "to",
          );
          assert.ok(Array.isArray(err.cause), "the issues are the cause");
          const paths = (err.cause as { path?: unknown[] }[]).map((issue) =>
            (issue.path ?? []).map((s) =>
              typeof s === "object" && s !== null ? (s as { key: unknown }).key : s,
            ),
          );
          assert.ok(
            paths.some((p) => p[0] === "to"),
            `an issue names "to": ${JSON.stringify(paths)}`,
          );
          assert.ok(
            paths.some((p) => p[0] === "tries"),
            `an issue names "tries": ${JSON.stringify(paths)}`,
          );
          assert.equal((await q.size()).pending, 0);
        },
      );

      test(
        `${vendor}: one bad payload in a batch writes none of it and is named by its place`,
        T,
        async (t) => {
          const { spool } = await fresh(b, t);
          const q = spool.queue("emails", { schema });
          await expectCode(
            () => q.addBatch([{ to: "a@x" }, { to: "b@x" }, { to: "c" }]),
            "INVALID_ARGUMENT",
            "payload #2",
          );
          assert.equal((await q.size()).pending, 0);
          assert.deepEqual(
            (await q.addBatch([{ to: "a@x" }, { to: "b@x" }])).length,
            2,
            "a batch of good payloads is added",
          );
        },
      );
    }

    test(
      "with a synchronous schema, a Buffer rewritten after add is stored as it was at the call",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("bytes", { schema: z.instanceof(Buffer) });
        const bytes = Buffer.from("original");
        const added = q.add(bytes);
        bytes.fill(0x21);
        await added;
        assert.equal((await q.reserve())?.payload.toString(), "original");
      },
    );

    test("an asynchronous schema is awaited", T, async (t) => {
      const { spool } = await fresh(b, t);
      const schema = z.string().refine(async (s) => s !== "taken", { message: "name taken" });
      const q = spool.queue("names", { schema });
      await q.add("free");
      await expectCode(() => q.add("taken"), "INVALID_ARGUMENT", "name taken");
      assert.equal((await q.size()).pending, 1);
    });

    test("odd values meet the schema like any other: NUL bytes, huge numbers, undefined", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("odd", { schema: z.object({ s: z.string(), n: z.number() }) });
      await q.add({ s: "a\u0000b", n: 2 ** 53 + 2 });
      assert.deepEqual((await q.reserve())?.payload, { s: "a\u0000b", n: 2 ** 53 + 2 });
      await expectCode(() => q.add(undefined as never), "INVALID_ARGUMENT", "undefined");
      await expectCode(() => q.add({ s: "x", n: Number.NaN }), "INVALID_ARGUMENT", "n");
      assert.equal((await q.size()).pending, 0);
    });

    test("a schema that throws or answers nonsense is refused, nothing written", T, async (t) => {
      const { spool } = await fresh(b, t);
      const boom = new Error("validator bug");
      const throwing = {
        "~standard": {
          version: 1 as const,
          vendor: "test",
          validate: () => {
            throw boom;
          },
        },
      };
      const q = spool.queue("throws", { schema: throwing });
      const err = await expectCode(() => q.add(1), "INVALID_ARGUMENT", "threw");
      assert.equal(err.cause, boom);
      const nonsense = { "~standard": { version: 1 as const, vendor: "test", validate: () => 42 as never } };
      await expectCode(() => spool.queue("nonsense", { schema: nonsense }).add(1), "INVALID_ARGUMENT", "42");
      assert.equal((await q.size()).pending, 0);
    });

    test("something that is not a Standard Schema is refused when the queue is made", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (const bad of [null, 42, "zod", {}, { "~standard": { version: 2, validate: () => ({}) } }, z]) {
        await expectCode(
          () => spool.queue("q", { schema: bad as never }),
          "INVALID_ARGUMENT",
          "Standard Schema",
        );
      }
    });

    test(
      "a schema answering with another realm's promise is awaited, not taken as a result",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const Foreign = vm.runInNewContext("Promise") as PromiseConstructor;
        const accepting = {
          "~standard": {
            version: 1 as const,
            vendor: "test",
            validate: (value: unknown) => Foreign.resolve({ value: { ok: value } }),
          },
        };
        const refusing = {
          "~standard": {
            version: 1 as const,
            vendor: "test",
            validate: () => Foreign.resolve({ issues: [{ message: "nope" }] }),
          },
        };
        const q = spool.queue("realm", { schema: accepting });
        const id = await q.add(1);
        assert.deepEqual((await q.get(id))?.payload, { ok: 1 });
        const r = spool.queue("refused", { schema: refusing });
        await expectCode(() => r.add(1), "INVALID_ARGUMENT", "nope");
        assert.equal((await r.size()).pending, 0);
      },
    );

    test("a result with neither a value nor issues is refused, nothing written", T, async (t) => {
      const { spool } = await fresh(b, t);
      const empty = { "~standard": { version: 1 as const, vendor: "test", validate: () => ({}) as never } };
      const q = spool.queue("empty", {
        schema: empty,
        codec: { encode: () => new Uint8Array(1), decode: () => 1 },
      });
      await expectCode(() => q.add(1), "INVALID_ARGUMENT", "neither a value nor issues");
      assert.equal((await q.size()).pending, 0);
    });

    test("an asynchronous schema validates the batch as it was at the call", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("snapshot", { schema: z.number().refine(async () => true) });
      const batch = [1, 2];
      const added = q.addBatch(batch);
      batch.push(3, 4);
      batch[1] = 99;
      const ids = await added;
      assert.equal(ids.length, 2);
      assert.deepEqual(
        (await q.list({ state: "pending" })).map((j) => j.payload),
        [1, 2],
      );
    });

    test("a refused payload's content is not copied into the message", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("private", { schema: z.number() });
      const err = await expectCode(() => q.add("sk_live_SECRET" as never), "INVALID_ARGUMENT", "payload");
      assert.equal(err.message.includes("sk_live_SECRET"), false, err.message);
    });

    test("a closed Spool says CLOSED before the schema runs", T, async (t) => {
      const { spool } = await fresh(b, t);
      let ran = 0;
      const counting = {
        "~standard": {
          version: 1 as const,
          vendor: "test",
          validate: (value: unknown) => {
            ran++;
            return { value };
          },
        },
      };
      const q = spool.queue("closed", { schema: counting });
      await spool.close();
      await expectCode(() => q.add(1), "CLOSED");
      assert.equal(ran, 0);
    });
  });
}
