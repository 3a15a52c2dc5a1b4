/*
 * Dependencies on the application's own client (`add(…, { client, dependsOn })`), inside its
 * transaction: a missing dependency is NOT_FOUND before anything is written (the caller's
 * transaction goes on as it was), and a linked job waits and is released like any other.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { expectCode } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/dependencies-client.test.ts");
const T = { timeout: 60_000 };

async function appClient(t: { after(fn: () => Promise<void>): void }): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: PG_URL,
    options: "-c idle_in_transaction_session_timeout=3000",
  });
  await client.connect();
  t.after(() => client.end());
  return client;
}

describe("postgres: dependencies on the application's client", { skip: !run }, () => {
  test("a missing dependency is NOT_FOUND with nothing written; the transaction goes on", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("client-deps");
    const dep = await q.add("dep");
    const client = await appClient(t);
    await client.query("BEGIN");
    await expectCode(() => q.add("x", { client, dependsOn: [dep, dep + 500] }), "NOT_FOUND", `${dep + 500}`);
    // Nothing of that add is in the transaction, which is still usable and commits the rest.
    const top = await q.add("top", { client, dependsOn: [dep] });
    await client.query("COMMIT");
    const rows = await sql(`SELECT count(*)::int AS n FROM "${f.schema}".jobs`);
    assert.equal(rows[0]?.n, 2, "the dependency and the one linked job");
    assert.equal((await q.get(top))?.state, "waiting");
    const held = await q.reserve();
    assert.equal(held?.id, dep);
    await q.complete(held!, "r");
    assert.equal((await q.get(top))?.state, "pending");
    assert.deepEqual(await q.results(top), { [dep]: "r" });
  });

  test("rolled back with the transaction: the dependency is as it was", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("client-deps-rb");
    const dep = await q.add("dep");
    const client = await appClient(t);
    await client.query("BEGIN");
    await q.add("top", { client, dependsOn: [dep] });
    await client.query("ROLLBACK");
    const rows = await sql(`SELECT count(*)::int AS n FROM "${f.schema}".deps`);
    assert.equal(rows[0]?.n, 0);
    assert.equal((await q.size()).total, 1);
  });
});
