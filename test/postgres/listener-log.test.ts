// The logger hears what the LISTEN connection goes through: a warning when it drops, an info
// line when it is back. Skipped when SPOOL_PG_URL is unset.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { Spool } from "../../src/index.js";
import { PG_URL, pgConfigured, sql, until } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/listener-log.test.ts");

test("a dropped LISTEN connection is logged as lost, then as reconnected", {
  skip: !run,
  timeout: 60_000,
}, async (t) => {
  const schema = `spool_log_${randomBytes(6).toString("hex")}`;
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    void lines.push({ level, obj, msg });
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const spool = await Spool.open(PG_URL as string, { schema, logger });
  t.after(async () => {
    await spool.close();
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  await sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
    `spool-listener ${schema}`,
  ]);
  await until("the loss and the reconnect logged", async () =>
    lines.some((l) => l.level === "info") ? true : undefined,
  );
  const [lost, back] = lines;
  assert.equal(lost?.level, "warn");
  assert.match(lost?.msg ?? "", /LISTEN connection lost/);
  assert.equal(back?.level, "info");
  assert.match(back?.msg ?? "", /LISTEN reconnected/);
  assert.equal(back?.obj.reconnects, 1);
  assert.ok(!JSON.stringify(lines).includes(PG_URL as string), "no connection string in the log");
});
