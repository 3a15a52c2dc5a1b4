/*
 * The dashboard's cron schedules: `GET api/schedules` answers what the store holds, and the page
 * shows each schedule (name, cron, zone, queue, next and last fire, catch-up) in a real browser,
 * following changes without a reload. Looking fires nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { startDashboard } from "../../src/dashboard/server.js";
import { csrfOf, launchBrowser, openPage, raw, stores, until, waitForText } from "./helpers.js";

const T = { timeout: 60_000 };
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const store of stores) {
  describe(`dashboard schedules on ${store.name}`, () => {
    test("api/schedules lists the stored schedules; only GET reads it", T, async (t) => {
      const spool = await store.open(t);
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const empty = await raw(`${server.url}api/schedules`);
      assert.equal(empty.status, 200, empty.body);
      assert.deepEqual(JSON.parse(empty.body), { schedules: [] });
      await spool.schedule("nightly", "30 3 * * *", { queue: "reports", tz: "Europe/Berlin" });
      await spool.schedule("ticks", "*/10 * * * * *", { queue: "ticks", catchUp: "all" });
      const res = await raw(`${server.url}api/schedules`);
      assert.equal(res.status, 200, res.body);
      const { schedules } = JSON.parse(res.body) as { schedules: Array<Record<string, unknown>> };
      const stored = await spool.schedules();
      assert.deepEqual(
        schedules,
        stored.map((s) => ({
          name: s.name,
          cron: s.cron,
          tz: s.tz,
          queue: s.queue,
          catchUp: s.catchUp,
          next: s.next.getTime(),
          last: null,
        })),
      );
      const csrf = csrfOf((await raw(server.url)).body);
      const headers = { "Content-Type": "application/json", "X-Spool-CSRF": csrf };
      const post = await raw(`${server.url}api/schedules`, { method: "POST", headers, body: "{}" });
      assert.equal(post.status, 405, post.body);
      assert.equal((await spool.queue("ticks").size()).total, 0, "the dashboard fires nothing");
    });

    test("the page shows every schedule and follows changes", T, async (t) => {
      const spool = await store.open(t);
      await spool.schedule("nightly", "30 3 * * *", { queue: "reports", tz: "Europe/Berlin" });
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const page = await openPage(t, browser, server.url);
      await page.waitForSelector('tr[data-schedule="nightly"]');
      const cells = await page.$$eval('tr[data-schedule="nightly"] td', (tds) =>
        tds.map((td) => td.textContent),
      );
      assert.deepEqual(
        [cells[0], cells[1], cells[2], cells[3], cells[5], cells[6]],
        ["nightly", "30 3 * * *", "Europe/Berlin", "reports", "—", "last"],
      );
      assert.match(cells[4] ?? "", /^\d{4}-\d\d-\d\d \d\d:30:00 \(in /);
      assert.equal(await page.isHidden("#no-schedules"), true);
      await spool.schedule("ticks", "* * * * * *", { queue: "ticks", catchUp: "none" });
      await page.waitForSelector('tr[data-schedule="ticks"]');
      await waitForText(page, "#schedule-count", "2 schedules");
      await spool.unschedule("nightly");
      await spool.unschedule("ticks");
      await until("the rows to go", async () => (await page.$("tr[data-schedule]")) === null);
      assert.equal(await page.isVisible("#no-schedules"), true);
    });
  });
}
