// The dashboard shows a queue's stored limits (a badge in the queue table) and a job's group
// (its detail view), on every store, in a real browser.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { startDashboard } from "../../src/dashboard/server.js";
import { launchBrowser, openPage, stores, waitForText } from "./helpers.js";

const T = { timeout: 60_000 };
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const store of stores) {
  describe(`dashboard limits and groups on ${store.name}`, () => {
    test("a queue's limits show as a badge, a job's group in its detail view", T, async (t) => {
      const spool = await store.open(t);
      const api = spool.queue("api", { rateLimit: { max: 50, duration: 1000 }, groupConcurrency: 1 });
      const id = await api.add({ call: 1 }, { group: "tenant-a" });
      await spool.queue("plain").add({ n: 1 });
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const page = await openPage(t, browser, `${server.url}#/q/api/pending`);
      await waitForText(page, 'tr[data-queue="api"] [data-limits]', "50/1s, 1 per group");
      await page.waitForSelector('tr[data-queue="plain"]');
      assert.equal(await page.$('tr[data-queue="plain"] [data-limits]'), null, "no badge without limits");
      await page.click(`tr[data-job-id="${id}"] a`);
      await waitForText(page, '#detail:not([hidden]) [data-field="group"]', "tenant-a");
    });
  });
}
