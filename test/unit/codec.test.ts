import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
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

describe("JSON codec: the plain-value fast path", () => {
  // What JSON.stringify with the refusing replacer makes of a value: the rule before the fast
  // path existed, written out here as the judge.
  function judge(value: unknown): string | "refused" {
    try {
      const text = JSON.stringify(value, (_k, v: unknown) => {
        const t = typeof v;
        if (t === "bigint" || t === "function" || t === "symbol") throw new TypeError(t);
        if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) {
          throw new TypeError("collection");
        }
        if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) throw new TypeError("bytes");
        return v;
      });
      return text === undefined ? "refused" : text;
    } catch {
      return "refused";
    }
  }

  function encoded(value: unknown): string | "refused" {
    try {
      return Buffer.from(encodeJson(value)).toString("utf8");
    } catch (e) {
      assert.ok(e instanceof SpoolError && e.code === "ENCODE");
      return "refused";
    }
  }

  const odd = fc.oneof(
    fc.constant(new Map([[1, 2]])),
    fc.constant(new Set([1])),
    fc.constant(() => 1),
    fc.constant(1n),
    fc.constant(Symbol("s")),
    fc.constant(new Uint8Array([1])),
    fc.constant(new Date(0)),
    fc.constant(undefined),
    fc.constant({ toJSON: () => new Map() }),
    fc.constant({ toJSON: () => "fine" }),
    fc.constant(Object.create(null) as object),
    // What a walk that trusts arrays, `in` or a prototype would wave through (review findings).
    fc.constant(
      Object.assign([1, 2], {
        toJSON: () => new Map([[1, 2]]),
      }),
    ),
    fc.constant(
      new (class Tags extends Array {
        toJSON() {
          return new Set(this);
        }
      })(),
    ),
    fc.constant(
      Object.assign([new Map([[1, 2]])], {
        [Symbol.iterator]: function* () {},
      }),
    ),
    fc.constant(new Proxy({ toJSON: () => new Map() }, { has: () => false })),
    fc.constant(Object.setPrototypeOf(new Uint8Array([7, 8, 9]), Object.prototype) as object),
    fc.constant(Object.setPrototypeOf(new Float64Array([1.5]), null) as object),
    fc.constant(JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as object),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 2 }),
      odd,
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie("node"), { maxKeys: 4 }),
    ),
  })).node;

  test("encodes exactly what the refusing replacer keeps, and refuses what it refuses", () => {
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(encoded(v), judge(v));
      }),
      { numRuns: 2000 },
    );
  });

  test("a polluted Array.prototype.toJSON is honoured, as JSON.stringify honours it", () => {
    const proto = Array.prototype as unknown as { toJSON?: () => unknown };
    proto.toJSON = () => new Set([1]);
    try {
      assert.equal(encoded({ tags: [1, 2] }), "refused");
    } finally {
      delete proto.toJSON;
    }
  });

  test("every getter is read once: what was checked is what is stored", () => {
    let reads = 0;
    const flip = {
      get v(): unknown {
        reads++;
        return reads === 1 ? 1 : new Map();
      },
    };
    assert.equal(encoded(flip), '{"v":1}');
    assert.equal(reads, 1);
    reads = 0;
    // Mixed with a value only the replacer judges (a Date): still one read each.
    assert.equal(encoded({ a: flip, d: new Date(0) }), '{"a":{"v":1},"d":"1970-01-01T00:00:00.000Z"}');
    assert.equal(reads, 1);
    let swaps = 0;
    const swapper: Record<string, unknown> = { first: 1 };
    Object.defineProperty(swapper, "second", {
      enumerable: true,
      get() {
        swaps++;
        swapper.first = new Set([1]);
        return 2;
      },
    });
    assert.equal(encoded(swapper), '{"first":1,"second":2}');
    assert.equal(swaps, 1);
  });

  test("a cycle beside a large sibling is refused without walking the sibling again and again", () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    const cyclic: Record<string, unknown> = { big };
    cyclic.self = cyclic;
    assert.equal(encoded(cyclic), "refused");
  });

  test("a value deeper than the fast path looks is still checked all the way down", () => {
    let deep: unknown = { f: () => 1 };
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.equal(encoded(deep), "refused");
    let fine: unknown = 1;
    for (let i = 0; i < 100; i++) fine = { a: fine };
    assert.equal(encoded(fine), JSON.stringify(fine));
  });
});
