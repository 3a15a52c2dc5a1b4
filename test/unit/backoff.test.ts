import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, checkBackoff } from "../../src/backoff.js";
import { SpoolError } from "../../src/index.js";

describe("backoff", () => {
  test("the default is exponential from 1000 ms, doubling each attempt", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((a) => backoffDelay([null], a, new Error("x"))),
      [1000, 2000, 4000, 8000, 16000],
    );
  });

  test("the default exponential backoff is capped at one hour", () => {
    assert.equal(backoffDelay([null], 30, null), 3_600_000);
  });

  test("a stored exponential policy honours delay and max", () => {
    const stored = checkBackoff({ type: "exponential", delay: 500, max: 1500 });
    assert.ok(stored);
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffDelay([stored], a, null)),
      [500, 1000, 1500, 1500],
    );
  });

  test("a fixed policy waits its delay every time", () => {
    const stored = checkBackoff({ type: "fixed", delay: 250 });
    assert.deepEqual(
      [1, 2, 9].map((a) => backoffDelay([stored], a, null)),
      [250, 250, 250],
    );
  });

  test("a function policy gets the attempt and the error, and cannot be stored", () => {
    const err = new Error("why");
    const seen: unknown[] = [];
    const fn = (attempt: number, error: unknown) => {
      seen.push(attempt, error);
      return attempt * 10;
    };
    assert.equal(checkBackoff(fn), null);
    assert.equal(backoffDelay([fn], 3, err), 30);
    assert.deepEqual(seen, [3, err]);
  });

  for (const bad of [
    { type: "linear" },
    { type: "fixed", delay: -1 },
    { type: "exponential", max: Number.NaN },
    5,
    null,
  ]) {
    test(`backoff ${JSON.stringify(bad)} is INVALID_ARGUMENT`, () => {
      assert.throws(
        () => checkBackoff(bad),
        (e) => e instanceof SpoolError && e.code === "INVALID_ARGUMENT",
      );
    });
  }
});
