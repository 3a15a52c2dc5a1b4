import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SpoolError } from "../../src/index.js";
import { checkDuration, checkInteger, checkName, checkState } from "../../src/validate.js";

function throwsCode(fn: () => unknown, code: string, mention: string): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof SpoolError);
    assert.equal(e.code, code);
    assert.ok(e.message.includes(mention), `${e.message} should name ${mention}`);
    return true;
  });
}

describe("validation helpers", () => {
  test("names: 1–128 of A–Z a–z 0–9 _ . : -, starting with a letter or digit", () => {
    for (const ok of ["a", "0", "a_b.c:d-e", "x".repeat(128)]) assert.equal(checkName(ok), ok);
    for (const bad of ["", "x".repeat(129), "_a", "-a", ".a", ":a", "a b", "ä", "a/b"]) {
      assert.throws(
        () => checkName(bad),
        (e) => e instanceof SpoolError && e.code === "INVALID_NAME",
      );
    }
    throwsCode(() => checkName("bad name"), "INVALID_NAME", "bad name");
    throwsCode(() => checkName(42), "INVALID_NAME", "42");
  });

  test("durations: finite numbers ≥ 0", () => {
    assert.equal(checkDuration(0, "delay"), 0);
    assert.equal(checkDuration(1.5, "delay"), 2, "rounded up to whole ms");
    throwsCode(() => checkDuration(-1, "delay"), "INVALID_ARGUMENT", "-1");
    throwsCode(() => checkDuration(Number.NaN, "ttl"), "INVALID_ARGUMENT", "NaN");
    throwsCode(() => checkDuration(Number.POSITIVE_INFINITY, "lease"), "INVALID_ARGUMENT", "lease");
    throwsCode(() => checkDuration("5", "delay"), "INVALID_ARGUMENT", "delay");
  });

  test("integers: safe and at least the minimum", () => {
    assert.equal(checkInteger(1, "maxAttempts", 1), 1);
    throwsCode(() => checkInteger(0, "maxAttempts", 1), "INVALID_ARGUMENT", "maxAttempts");
    throwsCode(() => checkInteger(2.5, "limit", 1), "INVALID_ARGUMENT", "2.5");
    throwsCode(() => checkInteger(2 ** 53, "limit", 1), "INVALID_ARGUMENT", "limit");
  });

  test("states: the five job states only", () => {
    for (const s of ["pending", "delayed", "reserved", "completed", "dead"]) assert.equal(checkState(s), s);
    throwsCode(() => checkState("done"), "INVALID_ARGUMENT", "done");
  });
});
