/*
 * An idle worker is idle: with nothing pending it claims about once per pollInterval, not in a
 * tight loop (greatest() ignores NULL, so "next due" once read 0 for an empty queue).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import type { Backend } from "../../src/backend.js";
import { waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/idle.test.ts");

/** Counts the backend's claims from the first one on; `over` waits for a window of `ms`. */
function countClaims(backend: Backend) {
  let claims = 0;
  let first = 0;
  const claim = backend.claim.bind(backend);
  backend.claim = (queue, limit, leaseMs) => {
    if (claims++ === 0) first = Date.now();
    return claim(queue, limit, leaseMs);
  };
  return {
    /** A window of at least `ms` from the first claim, however slow the machine makes it. */
    async over(what: string, ms: number): Promise<{ counted: number; elapsed: number }> {
      await waitFor(what, async () => claims > 0 && Date.now() - first >= ms);
      return { counted: claims, elapsed: Date.now() - first };
    },
  };
}
const T = { timeout: 30_000 };

describe("postgres: an idle worker", { skip: !run }, () => {
  test("the next due time of a queue with nothing pending is null", T, async (t) => {
    const spool = await spoolFixture(t).open();
    const backend = spool.ctx.backend;
    assert.equal(await backend.nextDueIn("empty"), null);
    const q = spool.queue("q");
    const id = await q.add(1);
    assert.equal(await backend.nextDueIn("q"), 0);
    const job = await q.reserve();
    assert.equal(job?.id, id);
    assert.equal(await backend.nextDueIn("q"), null, "a reserved job is not pending");
  });

  test("claims about once per pollInterval while the queue is empty", T, async (t) => {
    const spool = await spoolFixture(t).open();
    const backend = spool.ctx.backend;
    const pollInterval = 100;
    const claims = countClaims(backend);
    const worker = spool.queue("idle").process(async () => {}, { pollInterval });
    t.after(() => worker.stop());
    // A window of at least ten poll intervals, however slow the machine makes it.
    const { counted, elapsed } = await claims.over("ten poll intervals of idling", 10 * pollInterval);
    // One claim per interval, plus the first and a few for wake-ups: generous, yet a spinning
    // worker makes hundreds.
    const bound = Math.ceil(elapsed / pollInterval) + 5;
    assert.ok(
      counted <= bound,
      `${counted} claims in ${elapsed} ms (pollInterval ${pollInterval}): at most ${bound}`,
    );
  });

  test("does not spin while the one ready job's row is locked by another session", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const backend = spool.ctx.backend;
    const q = spool.queue("locked");
    const id = await q.add("x");
    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    t.after(() => locker.end().catch(() => {}));
    await locker.query("BEGIN");
    await locker.query(`SELECT id FROM "${f.schema}".jobs WHERE id = $1 FOR UPDATE`, [id]);
    const pollInterval = 100;
    const claims = countClaims(backend);
    const done: number[] = [];
    const worker = q.process(async (job) => void done.push(job.id), { pollInterval });
    t.after(() => worker.stop());
    const { counted, elapsed } = await claims.over(
      "ten poll intervals with the row locked",
      10 * pollInterval,
    );
    // "Due now" yet unclaimable backs off from 2 ms up to pollInterval: a handful of quick
    // tries, then one per interval. A spinning worker makes hundreds.
    const bound = Math.ceil(elapsed / pollInterval) + 12;
    assert.ok(counted <= bound, `${counted} claims in ${elapsed} ms with the row locked: at most ${bound}`);
    await locker.query("COMMIT");
    await waitFor("the job to run once the row is free", () => done.includes(id));
  });
});
