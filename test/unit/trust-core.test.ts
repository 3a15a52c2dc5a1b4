// Unit checks of the core's single rules (issue 11): durations rounded once, one error text,
// one backoff precedence.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, checkBackoff } from "../../src/backoff.js";
import { errorText } from "../../src/errors.js";
import { checkDuration, checkPositiveDuration, checkTime } from "../../src/validate.js";

describe("durations are whole ms, rounded up", () => {
  test("fractions round up, never down", () => {
    assert.equal(checkDuration(1.5, "delay"), 2);
    assert.equal(checkDuration(0.0001, "delay"), 1);
    assert.equal(checkDuration(7, "delay"), 7);
    assert.equal(checkPositiveDuration(1000.5, "lease"), 1001);
    assert.equal(checkTime(1_700_000_000_000.2, "runAt"), 1_700_000_000_001);
    assert.equal(checkTime(new Date(5), "runAt"), 5);
  });

  test("a duration or time beyond a valid Date is refused", () => {
    for (const v of [1e300, 2 ** 53, 1e15 + 1]) {
      assert.throws(() => checkDuration(v, "delay"), /delay/);
      assert.throws(() => checkPositiveDuration(v, "lease"), /lease/);
    }
    assert.equal(checkDuration(1e15, "delay"), 1e15);
    assert.throws(() => checkTime(1e300, "runAt"), /runAt/);
    assert.throws(() => checkTime(new Date(Number.NaN), "runAt"), /runAt/);
  });

  test("-0 becomes 0", () => {
    assert.ok(Object.is(checkDuration(-0, "delay"), 0));
  });

  test("a random jitter is always a whole number", () => {
    for (let i = 0; i < 1000; i++) assert.ok(Number.isInteger(checkDuration(Math.random() * 5000, "delay")));
  });

  test("stored backoff delays and a function's answer are whole ms", () => {
    assert.equal(backoffDelay([checkBackoff({ type: "fixed", delay: 0.5 })], 1, null), 1);
    assert.equal(backoffDelay([checkBackoff({ type: "exponential", delay: 0.3, max: 10 })], 3, null), 4);
    assert.equal(backoffDelay([() => 2.2], 1, null), 3);
  });
});

describe("one error text", () => {
  test("each kind of thrown value has one readable text", () => {
    assert.equal(errorText(new Error("boom")), "boom");
    assert.equal(errorText(new TypeError("")), "TypeError");
    assert.equal(errorText("words"), "words");
    assert.equal(errorText(undefined), "failed");
    assert.equal(errorText(null), "null");
    assert.equal(errorText(7), "7");
    assert.equal(errorText({ code: 42 }), '{"code":42}');
    assert.equal(errorText({ message: "like an error" }), "like an error");
    assert.equal(errorText(10n), "10n");
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.equal(errorText(cycle), "an object");
  });

  test("a NUL byte becomes U+FFFD", () => {
    assert.equal(errorText(new Error("bad\0byte")), "bad\uFFFDbyte");
    assert.equal(errorText("a\0\0b"), "a\uFFFD\uFFFDb");
  });

  test("a lone surrogate becomes U+FFFD: no driver writes invalid UTF-8", () => {
    assert.equal(errorText(new Error("x\uD800y")), "x\uFFFDy");
    assert.equal(errorText("\uDE00"), "\uFFFD");
    assert.equal(errorText("ok \uD83D\uDE00"), "ok \uD83D\uDE00");
  });
});

describe("one backoff precedence", () => {
  const fixed = (ms: number) => checkBackoff({ type: "fixed", delay: ms });

  test("the job's own backoff wins, then the queue's, then the default", () => {
    assert.equal(backoffDelay([() => 5, fixed(10), fixed(20)], 1, null), 5);
    assert.equal(backoffDelay([undefined, fixed(10), () => 20], 1, null), 10);
    assert.equal(backoffDelay([undefined, null, () => 20], 1, null), 20);
    assert.equal(backoffDelay([undefined, null, null], 2, null), 2000);
  });

  test("a throwing function gives way to the next choice; a bad answer means at once", () => {
    const throws = () => {
      throw new Error("no");
    };
    assert.equal(backoffDelay([throws, fixed(10)], 1, null), 10);
    assert.equal(backoffDelay([() => Number.NaN, fixed(10)], 1, null), 0);
    assert.equal(backoffDelay([() => -1], 1, null), 0);
  });
});
