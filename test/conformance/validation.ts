import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AddOptions } from "../../src/types.js";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

const badNames: Array<[string, string]> = [
  ["empty", ""],
  ["129 characters", `a${"b".repeat(128)}`],
  ["starting with _", "_jobs"],
  ["starting with -", "-jobs"],
  ["starting with .", ".jobs"],
  ["starting with :", ":jobs"],
  ["a space", "my jobs"],
  ["a slash", "a/b"],
  ["a quote", "a'b"],
  ["SQL", "x; DROP TABLE jobs"],
  ["non-ASCII", "jöbs"],
  ["a newline", "jobs\n"],
];

const goodNames = ["a", "Z", "7", "emails", "A1_b.c:d-e", "9lives", `x${"y".repeat(127)}`];

/** Each bad AddOptions, the text its message must contain. */
const badAddOptions: Array<[string, AddOptions, string]> = [
  ["a fractional priority", { priority: 1.5 }, "1.5"],
  ["a NaN priority", { priority: Number.NaN }, "NaN"],
  ["an unsafe priority", { priority: 2 ** 53 }, String(2 ** 53)],
  ["a string priority", { priority: "1" as unknown as number }, "priority"],
  ["a negative delay", { delay: -1 }, "-1"],
  ["a NaN delay", { delay: Number.NaN }, "NaN"],
  ["an infinite delay", { delay: Number.POSITIVE_INFINITY }, "Infinity"],
  ["a negative ttl", { ttl: -5 }, "-5"],
  ["a NaN ttl", { ttl: Number.NaN }, "NaN"],
  ["maxAttempts 0", { maxAttempts: 0 }, "maxAttempts"],
  ["a negative maxAttempts", { maxAttempts: -2 }, "-2"],
  ["a fractional maxAttempts", { maxAttempts: 2.5 }, "2.5"],
  ["both delay and runAt", { delay: 5, runAt: Date.now() }, "runAt"],
];

export function validation(b: BackendFixture): void {
  describe("validation", () => {
    for (const [what, name] of badNames) {
      test(`a queue name with ${what} is INVALID_NAME`, T, async (t) => {
        const { spool } = await fresh(b, t);
        const err = await expectCode(() => spool.queue(name).add(1), "INVALID_NAME");
        if (name.length > 0 && name.length < 40)
          assert.ok(
            err.message.includes(JSON.stringify(name).slice(1, -1)) || err.message.includes(name),
            `message names ${JSON.stringify(name)}: ${err.message}`,
          );
        await expectCode(() => spool.channel(name), "INVALID_NAME");
        assert.deepEqual(await spool.queues(), []);
      });
    }

    test("valid queue names are accepted", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (const name of goodNames) {
        const id = await spool.queue(name).add(name);
        assert.equal((await spool.queue(name).get(id))?.payload, name);
      }
      assert.deepEqual((await spool.queues()).sort(), [...goodNames].sort());
    });

    for (const [what, options, mention] of badAddOptions) {
      test(`add with ${what} is INVALID_ARGUMENT and writes nothing`, T, async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("opts");
        await expectCode(() => q.add(1, options), "INVALID_ARGUMENT", mention);
        await expectCode(() => q.addBatch([1, 2], options), "INVALID_ARGUMENT", mention);
        assert.equal((await q.size()).total, 0);
      });
    }

    test("bad queue defaults are INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      await expectCode(() => spool.queue("d1", { priority: 0.5 }).add(1), "INVALID_ARGUMENT", "0.5");
      await expectCode(() => spool.queue("d2", { lease: -10 }).reserve(), "INVALID_ARGUMENT", "-10");
      await expectCode(() => spool.queue("d3", { maxAttempts: 0 }).add(1), "INVALID_ARGUMENT", "maxAttempts");
      assert.deepEqual(await spool.queues(), []);
    });

    test("a preview size beyond an int4 is INVALID_ARGUMENT on every store", T, async (t) => {
      // Found by review: SQLite served it, PostgreSQL failed with STORAGE (an int4 overflow).
      const { spool } = await fresh(b, t);
      const q = spool.queue("preview");
      await q.add(1);
      await expectCode(() => q.listPreviews({ state: "pending" }, 3e9), "INVALID_ARGUMENT", "3000000000");
      assert.equal((await q.listPreviews({ state: "pending" }, 2 ** 31 - 1)).length, 1);
    });

    test("a bad lease is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("lease");
      await q.add(1);
      await expectCode(() => q.reserve({ lease: -1 }), "INVALID_ARGUMENT", "-1");
      await expectCode(() => q.reserve({ lease: Number.NaN }), "INVALID_ARGUMENT", "NaN");
      await expectCode(
        () => q.reserveBatch(2, { lease: Number.POSITIVE_INFINITY }),
        "INVALID_ARGUMENT",
        "Infinity",
      );
      assert.equal((await q.size()).pending, 1, "nothing was reserved");
      const job = await q.reserve();
      await expectCode(() => q.extend(job!, -100), "INVALID_ARGUMENT", "-100");
      await expectCode(() => q.extend(job!, Number.NaN), "INVALID_ARGUMENT", "NaN");
      await expectCode(() => q.fail(job!, "x", { retryIn: -3 }), "INVALID_ARGUMENT", "-3");
      assert.equal((await q.get(job!.id))?.state, "reserved", "nothing changed");
    });

    test("a limit below 1 is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("limits");
      await q.add(1);
      await expectCode(() => q.reserveBatch(0), "INVALID_ARGUMENT", "0");
      await expectCode(() => q.reserveBatch(-1), "INVALID_ARGUMENT", "-1");
      await expectCode(() => q.reserveBatch(1.5), "INVALID_ARGUMENT", "1.5");
      await expectCode(() => q.list({ state: "pending", limit: 0 }), "INVALID_ARGUMENT", "0");
      await expectCode(() => q.list({ state: "nope" as "pending" }), "INVALID_ARGUMENT", "nope");
      assert.equal((await q.size()).pending, 1);
      const [, rx] = await spool.channel("chan");
      await expectCode(() => rx.recvBatch(0), "INVALID_ARGUMENT", "0");
    });

    test("purge accepts only completed or dead, and a valid olderThan", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("purgeargs");
      await q.add(1);
      await expectCode(() => q.purge({ state: "pending" as "dead" }), "INVALID_ARGUMENT", "pending");
      await expectCode(() => q.purge({ state: "dead", olderThan: -1 }), "INVALID_ARGUMENT", "-1");
      assert.equal((await q.size()).total, 1);
    });

    test("a bad worker timeout or send timeout is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("timeouts");
      await expectCode(() => q.process(async () => {}, { timeout: -1 }), "INVALID_ARGUMENT", "-1");
      await expectCode(() => q.process(async () => {}, { timeout: Number.NaN }), "INVALID_ARGUMENT", "NaN");
      await expectCode(() => q.process(async () => {}, { lease: -5 }), "INVALID_ARGUMENT", "-5");
      const [tx] = await spool.channel("c", { maxSize: 1 });
      await expectCode(() => tx.send(1, { timeout: -7 }), "INVALID_ARGUMENT", "-7");
      assert.equal(await tx.len(), 0);
    });

    test("a channel maxSize below 1 is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      await expectCode(() => spool.channel("c", { maxSize: 0 }), "INVALID_ARGUMENT", "0");
      await expectCode(() => spool.channel("c", { maxSize: 1.5 }), "INVALID_ARGUMENT", "1.5");
    });

    test("every error is a SpoolError with a contract code", T, async (t) => {
      const { spool } = await fresh(b, t);
      const err = await expectCode(() => spool.queue("x").add(1, { priority: 0.1 }), "INVALID_ARGUMENT");
      assert.equal(err.name, "SpoolError");
      assert.ok(err instanceof Error);
    });
  });
}
