/*
 * The dashboard in a real browser (Debian's Chromium): counts, the live chart, retry, delete,
 * purge, and user data shown as text. Every wait is for a condition, never a guessed sleep.
 */
import assert from "node:assert/strict";
import { after, before, describe, type TestContext, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startDashboard } from "../../src/dashboard/server.js";
import type { Spool } from "../../src/index.js";
import { JOB_STATES } from "../../src/types.js";
import {
  launchBrowser,
  openPage,
  type Store,
  seedEveryState,
  sqliteStore,
  stores,
  until,
  waitForText,
} from "./helpers.js";

const T = { timeout: 60_000 };
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A dashboard over a fresh store, and a browser page on `hash`. */
async function serve(t: TestContext, store: Store, seed: (spool: Spool) => Promise<void>, hash = "") {
  const spool = await store.open(t);
  await seed(spool);
  const server = await startDashboard(spool, { port: 0 });
  t.after(() => server.close());
  const page = await openPage(t, browser, `${server.url}${hash}`);
  return { spool, page, url: server.url };
}

/** The counts the queue table shows for one queue. */
function shownCounts(page: Page, queue: string): Promise<Record<string, string>> {
  return page.$$eval(`tr[data-queue="${queue}"] td[data-state]`, (cells) =>
    Object.fromEntries(cells.map((c) => [c.getAttribute("data-state"), c.textContent ?? ""])),
  );
}

for (const store of stores) {
  describe(`dashboard on ${store.name}`, () => {
    test("the page loads and its counts match the database", T, async (t) => {
      const { spool, page } = await serve(t, store, async (s) => {
        await seedEveryState(s.queue("emails"));
        await s.queue("reports").addBatch([{ r: 1 }, { r: 2 }]);
      });
      await page.waitForSelector('tr[data-queue="reports"]');
      for (const name of ["emails", "reports"]) {
        const size = await spool.queue(name).size();
        const shown = await shownCounts(page, name);
        for (const state of [...JOB_STATES, "total"] as const) {
          assert.equal(shown[state], String(size[state]), `${name} ${state}`);
        }
      }
      assert.deepEqual(await spool.queue("emails").size(), {
        waiting: 0,
        pending: 3,
        delayed: 2,
        reserved: 2,
        completed: 2,
        dead: 1,
        total: 10,
        paused: false,
      });
      assert.equal(await page.textContent("#kind"), store.name);
      // Counts follow the database without a reload.
      await spool.queue("reports").add({ r: 3 });
      await waitForText(page, 'tr[data-queue="reports"] td[data-state="pending"]', "3");
    });
  });
}

describe("dashboard on sqlite", () => {
  test("the chart updates as jobs complete", T, async (t) => {
    const { spool, page } = await serve(t, sqliteStore, async (s) => {
      await s.queue("work").addBatch(Array.from({ length: 30 }, (_, i) => ({ i })));
    });
    await page.waitForSelector("#chart svg[data-points]");
    assert.equal(await page.getAttribute("#chart svg", "data-completed"), "0");
    const queue = spool.queue("work");
    for (const job of await queue.reserveBatch(30)) await queue.complete(job);
    await until("the chart to count 30 completed jobs", async () => {
      return (await page.getAttribute("#chart svg", "data-completed")) === "30";
    });
    // Jobs that die count as failures.
    await queue.addBatch([{ f: 1 }, { f: 2 }], { maxAttempts: 1 });
    for (const job of await queue.reserveBatch(2)) await queue.fail(job, new Error("boom"));
    await until("the chart to count 2 failed jobs", async () => {
      return (await page.getAttribute("#chart svg", "data-failed")) === "2";
    });
    // The lines are drawn, not only counted.
    assert.ok((await page.$$("#chart path.line.failed")).length > 0);
    assert.ok((await page.$$("#chart path.line.completed")).length > 0);
    await until("the legend to show a rate", async () => (await page.textContent("#rate-completed")) !== "0");
  });

  test("retry of a dead job from its detail view moves it to pending", T, async (t) => {
    let deadId = 0;
    const { spool, page } = await serve(
      t,
      sqliteStore,
      async (s) => {
        deadId = await seedEveryState(s.queue("emails"));
      },
      "#/q/emails/dead",
    );
    await page.click(`tr[data-job-id="${deadId}"] a`);
    await page.waitForSelector("#detail:not([hidden]) [data-action=retry]");
    assert.equal(await page.textContent('[data-section="error"] pre'), "smtp: connection refused");
    await page.click("[data-action=retry]");
    await until(
      "the job to be pending",
      async () => (await spool.queue("emails").get(deadId))?.state === "pending",
    );
    await waitForText(page, 'tr[data-queue="emails"] td[data-state="dead"]', "0");
    await waitForText(page, '[data-field="state"]', "pending");
  });

  test("retry all, delete and purge act on the database", T, async (t) => {
    const { spool, page } = await serve(
      t,
      sqliteStore,
      async (s) => void (await seedEveryState(s.queue("q"))),
      "#/q/q/dead",
    );
    const queue = spool.queue("q");
    await page.click("[data-action=retry-all]");
    await until("no dead job left", async () => (await queue.size()).dead === 0);

    await page.click('a[data-tab="completed"]');
    await page.waitForSelector("#jobs tbody tr[data-job-id]");
    const first = Number(await page.getAttribute("#jobs tbody tr[data-job-id]", "data-job-id"));
    await page.click(`tr[data-job-id="${first}"] a`);
    await page.click("#detail:not([hidden]) [data-action=delete]");
    await until("the job to be deleted", async () => (await queue.get(first)) === null);

    await page.waitForSelector("[data-action=purge]:not([disabled])");
    await page.click("[data-action=purge]");
    await until("completed jobs to be purged", async () => (await queue.size()).completed === 0);
    await page.waitForSelector("#no-jobs:not([hidden])");
  });

  test("payload and error markup is shown as text and runs nothing", T, async (t) => {
    const markup = `<script>window.__pwned = "script"</script><img src=x onerror="window.__pwned = 'img'">`;
    let id = 0;
    const { page } = await serve(t, sqliteStore, async (s) => {
      const queue = s.queue("evil");
      id = await queue.add({ html: markup }, { maxAttempts: 1 });
      const job = await queue.reserve();
      assert.ok(job);
      await queue.fail(job, new Error(markup));
    });
    await page.goto(`${page.url()}#/q/evil/dead/job/${id}`);
    await page.waitForSelector('#detail:not([hidden]) [data-section="payload"] pre');
    const payload = await page.textContent('[data-section="payload"] pre');
    assert.ok(payload?.includes(markup.replaceAll('"', '\\"')), payload ?? "no payload");
    assert.equal(await page.textContent('[data-section="error"] pre'), markup);
    assert.ok(await page.isVisible(`#jobs .preview`));
    assert.ok((await page.textContent("#jobs .preview"))?.includes("<script>"));
    assert.ok(await page.isVisible('[data-section="error"] pre'));
    // Nothing was parsed as markup: no injected element exists and no handler ran.
    assert.equal(await page.$$eval("main img, #detail img, main script, #detail script", (n) => n.length), 0);
    assert.equal(await page.evaluate("typeof window.__pwned"), "undefined");
  });

  test("a binary payload is shown as its size and a hex preview", T, async (t) => {
    let id = 0;
    const { page } = await serve(t, sqliteStore, async (s) => {
      id = await s.queue("bin").add(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x41]));
    });
    await page.goto(`${page.url()}#/q/bin/pending/job/${id}`);
    await page.waitForSelector('#detail:not([hidden]) [data-section="payload"] pre');
    assert.match((await page.textContent('[data-section="payload"] p')) ?? "", /6 bytes/);
    assert.equal(await page.textContent('[data-section="payload"] pre'), "00000000  de ad be ef 00 41");
    assert.equal(await page.textContent(`tr[data-job-id="${id}"] .preview`), "<6 bytes>");
  });

  test("the job browser pages through a state", T, async (t) => {
    const { page } = await serve(
      t,
      sqliteStore,
      async (s) => void (await s.queue("many").addBatch(Array.from({ length: 60 }, (_, i) => ({ i })))),
      "#/q/many/pending",
    );
    await waitForText(page, "#page-info", "#1 – #25");
    await page.click("#page-next");
    await waitForText(page, "#page-info", "#26 – #50");
    await page.click("#page-next");
    await waitForText(page, "#page-info", "#51 – #60");
    assert.equal(await page.isDisabled("#page-next"), true);
    await page.click("#page-prev");
    await waitForText(page, "#page-info", "#26 – #50");
  });

  test("pause stops a running worker, shows a badge, and resume starts it again", T, async (t) => {
    const { spool, page } = await serve(
      t,
      sqliteStore,
      async (s) => void (await s.queue("work").add({ first: true })),
      "#/q/work/pending",
    );
    const queue = spool.queue("work");
    const ran: unknown[] = [];
    // A minute between polls: only a wake-up (an add, the resume) makes it claim promptly.
    const worker = queue.process(async (job) => void ran.push(job.payload), { pollInterval: 60_000 });
    t.after(() => worker.stop());
    await until("the worker to run the first job", async () => (await queue.size()).completed === 1);
    await page.click("[data-action=pause]");
    await until("the queue to be paused", () => queue.isPaused());
    await page.waitForSelector('tr[data-queue="work"] [data-paused]');
    await page.waitForSelector("[data-action=resume]");
    // Each add wakes the worker; it claims and finds nothing while the queue is paused.
    await queue.addBatch([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await waitForText(page, 'tr[data-queue="work"] td[data-state="pending"]', "3");
    assert.deepEqual(await queue.size(), {
      waiting: 0,
      pending: 3,
      delayed: 0,
      reserved: 0,
      completed: 1,
      dead: 0,
      total: 4,
      paused: true,
    });
    assert.equal(ran.length, 1, "no job ran while paused");
    await page.click("[data-action=resume]");
    await until("every job to complete after resume", async () => (await queue.size()).completed === 4);
    await until(
      "the badge to go",
      async () => (await page.$('tr[data-queue="work"] [data-paused]')) === null,
    );
    assert.equal(await queue.isPaused(), false);
  });
});
