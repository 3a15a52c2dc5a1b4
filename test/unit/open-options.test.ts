// Spool.open's option check: a mistyped key is refused naming the key and the public options;
// the internal clock seam is accepted but never offered to users as a known option (review).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";

test("an unknown Spool.open option names the key and only the public options", async () => {
  await assert.rejects(
    () => Spool.open(":memory:", { durabilty: "full" } as never),
    (error: unknown) => {
      assert.ok(error instanceof SpoolError);
      assert.equal(error.code, "INVALID_ARGUMENT");
      assert.match(error.message, /"durabilty"/);
      assert.match(error.message, /durability, busyTimeout/);
      assert.doesNotMatch(error.message, /clock/);
      return true;
    },
  );
});

test("the internal clock is accepted, and checked", async () => {
  const spool = await Spool.open(":memory:", { clock: () => 1_000 } as never);
  await spool.close();
  await assert.rejects(() => Spool.open(":memory:", { clock: 5 } as never), /clock must be a function/);
});
