import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeJson, encodeJson } from "../../src/codec.js";
import { SpoolError } from "../../src/index.js";

describe("JSON codec", () => {
  test("round-trips JSON values", () => {
    for (const v of [null, 0, -1.5, "", "ünï 🎉", true, [1, [2]], { a: { b: null } }]) {
      assert.deepEqual(decodeJson(encodeJson(v)), v);
    }
  });

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const [what, value] of [
    ["undefined", undefined],
    ["a function", () => 1],
    ["a BigInt", 1n],
    ["a nested BigInt", { n: [1n] }],
    ["a nested function", { f: () => 1 }],
    ["a cycle", cycle],
    ["a symbol", Symbol("s")],
  ] as const) {
    test(`refuses ${what} with ENCODE`, () => {
      assert.throws(
        () => encodeJson(value),
        (e) => e instanceof SpoolError && e.code === "ENCODE",
      );
    });
  }

  test("bytes that are not UTF-8 JSON fail to decode", () => {
    assert.throws(() => decodeJson(Buffer.from([0xff, 0xfe])));
    assert.throws(() => decodeJson(Buffer.from("{not json")));
  });
});
