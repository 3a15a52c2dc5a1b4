// A receive that meets an undecodable job whose lease lapsed (the take's rescue made it pending)
// makes it dead, and the next receive goes on. The take is undone to its savepoint first, rescue
// included, so the job is back to reserved when it is buried: found by the model test (seed
// 1915990610), once the burial required a pending row.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";
import { pickyCodec } from "../conformance/codecs.js";
import { T } from "../conformance/harness.js";

/** Reads back what pickyCodec refuses to. */
const lenient = {
  encode: (s: string) => Buffer.from(s, "utf8"),
  decode: (b: Uint8Array) => Buffer.from(b).toString("utf8"),
};

test("an undecodable job whose lease lapsed is buried by the receive that meets it", T, async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const options: SpoolOptions & { clock: () => number } = { clock: () => now };
  const spool = await Spool.open(":memory:", options);
  t.after(() => spool.close());
  const queue = spool.queue<string>("h", { codec: lenient });
  const id = await queue.add("bad");
  assert.equal((await queue.reserve({ lease: 1 }))?.id, id);
  now += 2;
  const [, rx] = await spool.channel<string>("h", { codec: pickyCodec });
  await assert.rejects(rx.recv(), (error: unknown) => error instanceof SpoolError && error.code === "DECODE");
  assert.equal(await rx.recv(), undefined, "the next receive goes on: nothing left");
  const job = await queue.get(id);
  assert.equal(job?.state, "dead");
});
