// startDashboard(target) reads `?schema=` in a postgres URL as `spool dashboard` does: it shows
// that schema's queues, and a schema with no Spool database is refused, not replaced by another.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { startDashboard } from "../../src/dashboard/server.js";
import { Spool } from "../../src/index.js";
import { expectCode } from "../conformance/harness.js";

const base = process.env.SPOOL_PG_URL;

describe("postgres: startDashboard and ?schema=", { skip: base ? false : "SPOOL_PG_URL is not set" }, () => {
  test("shows the schema the URL names, and refuses one that holds no Spool", async (t) => {
    const schema = `spool_dash_${randomBytes(4).toString("hex")}`;
    const spool = await Spool.open(base as string, { schema });
    t.after(async () => {
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    await spool.queue("only_in_this_schema").add(1);
    await spool.close();
    const url = new URL(base as string);
    url.searchParams.set("schema", schema);
    const dashboard = await startDashboard(url.toString(), { port: 0 });
    try {
      const overview = (await (await fetch(new URL("api/overview", dashboard.url))).json()) as {
        queues: { name: string }[];
      };
      assert.deepEqual(
        overview.queues.map((q) => q.name),
        ["only_in_this_schema"],
      );
    } finally {
      await dashboard.close();
    }
    url.searchParams.set("schema", `${schema}_typo`);
    await expectCode(() => startDashboard(url.toString(), { port: 0 }), "STORAGE", "no Spool database");
  });
});
