/*
 * One schedule whose fire keeps failing must not hold up the others: the scheduler logs it,
 * goes on with the next schedule, and tries it again on its next pass. The failure is made by
 * hand (a stored row no fire can read), as only a damaged or foreign row could be.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Spool } from "../../src/index.js";
import { waitFor } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

test("a schedule whose fire fails does not stop the schedules after it", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-sched-"));
  const path = join(dir, "s.db");
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn(_obj: unknown, msg: string) {
      warnings.push(msg);
    },
    error() {},
  };
  const spool = await Spool.open(path, { logger });
  t.after(async () => {
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await spool.schedule("a-broken", "* * * * * *", { queue: "a" });
  await spool.schedule("b-healthy", "* * * * * *", { queue: "b" });
  const raw = openRawSqlite(path);
  raw.prepare("UPDATE spool_schedules SET options = '{' WHERE name = 'a-broken'").run();
  raw.close();
  const scheduler = spool.runScheduler();
  t.after(() => scheduler.stop());
  await waitFor(
    "the healthy schedule to fire",
    async () => (await spool.queue("b").size()).pending >= 2,
    20_000,
  );
  await waitFor(
    "more fires of the healthy one",
    async () => (await spool.queue("b").size()).pending >= 4,
    20_000,
  );
  assert.equal(
    warnings.filter((w) => w.includes("a-broken")).length,
    1,
    `the broken one is logged by name, once while it keeps failing alike: ${warnings.join(" | ")}`,
  );
  assert.equal((await spool.queue("a").size()).pending, 0);
});
