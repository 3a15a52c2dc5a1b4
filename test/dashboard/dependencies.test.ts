/*
 * Job dependencies in the dashboard (issue 17), on every store: the overview counts waiting
 * jobs, the job list has a Waiting tab, and a job's detail shows what it depends on (a link to
 * each, in whatever queue, with its state), bounded however many that is; in a real browser,
 * a waiting job is seen, opened, its dependency followed, and it turns pending once they complete.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import type { JobDetail, JobRow } from "../../src/dashboard/jobs.js";
import { startDashboard } from "../../src/dashboard/server.js";
import { launchBrowser, openPage, raw, stores, until, waitForText } from "./helpers.js";

const T = { timeout: 120_000 };
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const store of stores) {
  describe(`dashboard dependencies on ${store.name}`, () => {
    test("the API counts waiting jobs, lists them, and details their dependencies, capped", T, async (t) => {
      const spool = await store.open(t);
      const parts = spool.queue("parts");
      const asm = spool.queue("asm");
      const [a, b] = await parts.addBatch([{ p: 1 }, { p: 2 }]);
      assert.ok(a && b);
      const job = await asm.add({ build: 1 }, { dependsOn: [a, b] });
      const claimed = await parts.reserve();
      assert.equal(claimed?.id, a);
      if (claimed) await parts.complete(claimed, { made: 1 });
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const api = (path: string) =>
        raw(`${server.url}api/${path}`).then((r) => {
          assert.equal(r.status, 200, r.body);
          return JSON.parse(r.body) as unknown;
        });

      const overview = (await api("overview")) as { queues: { name: string; size: { waiting: number } }[] };
      assert.equal(overview.queues.find((q) => q.name === "asm")?.size.waiting, 1);
      const page = (await api("queues/asm/jobs?state=waiting")) as { jobs: JobRow[] };
      assert.deepEqual(
        page.jobs.map((j) => [j.id, j.state]),
        [[job, "waiting"]],
      );
      const detail = (await api(`queues/asm/jobs/${job}`)) as JobDetail;
      assert.deepEqual(detail.dependencies, {
        total: 2,
        done: 1,
        items: [
          { id: a, done: true, queue: "parts", state: "completed" },
          { id: b, done: false, queue: "parts", state: "pending" },
        ],
        more: 0,
      });
      // A completed dependency whose row is purged still shows completed (its result is kept).
      assert.equal(await parts.purge({ state: "completed" }), 1);
      const purged = (await api(`queues/asm/jobs/${job}`)) as JobDetail;
      assert.deepEqual(purged.dependencies?.items[0], { id: a, done: true, queue: null, state: "completed" });
      assert.deepEqual(await asm.results(job), { [a]: { made: 1 } });
      const plain = (await api(`queues/parts/jobs/${b}`)) as JobDetail;
      assert.equal(plain.dependencies, null);

      // 10,000 dependencies: 50 listed, the rest counted, and the answer stays small.
      const many = await parts.addBatch(Array.from({ length: 10_000 }, (_, i) => i));
      const big = await asm.add({ build: 2 }, { dependsOn: many });
      const res = await raw(`${server.url}api/queues/asm/jobs/${big}`);
      assert.equal(res.status, 200, res.body);
      assert.ok(res.body.length < 16_384, `${res.body.length} bytes`);
      const bigDetail = JSON.parse(res.body) as JobDetail;
      assert.equal(bigDetail.state, "waiting");
      assert.equal(bigDetail.dependencies?.total, 10_000);
      assert.equal(bigDetail.dependencies?.done, 0);
      assert.equal(bigDetail.dependencies?.items.length, 50);
      assert.equal(bigDetail.dependencies?.more, 9_950);
      assert.deepEqual(bigDetail.dependencies?.items[49], {
        id: many[49],
        done: false,
        queue: "parts",
        state: "pending",
      });
    });

    test("a browser sees a waiting job, its dependency, and then sees it pending", T, async (t) => {
      const spool = await store.open(t);
      const parts = spool.queue("parts");
      const asm = spool.queue("asm");
      const dep = await parts.add({ part: "<b>wheel</b>" });
      const job = await asm.add({ build: "car" }, { dependsOn: [dep] });
      const server = await startDashboard(spool, { port: 0 });
      t.after(() => server.close());
      const page = await openPage(t, browser, server.url);

      // The overview's Waiting count links to the Waiting tab, which lists the job.
      await waitForText(page, 'tr[data-queue="asm"] td[data-state="waiting"]', "1");
      await page.click('tr[data-queue="asm"] td[data-state="waiting"] a');
      await page.waitForSelector('a[data-tab="waiting"].active');
      await page.click(`tr[data-job-id="${job}"] a`);
      await waitForText(page, '#detail:not([hidden]) [data-field="state"]', "waiting");
      await waitForText(
        page,
        '[data-section="dependencies"] [data-field="dependencies"]',
        "0 of 1 completed",
      );
      const item = `[data-section="dependencies"] li[data-dep-id="${dep}"]`;
      assert.equal(await page.getAttribute(item, "data-dep-state"), "pending");
      assert.equal(await page.textContent(`${item} .dep-queue`), "parts");

      // The link opens the dependency, in its own queue.
      await page.click(`${item} a`);
      await waitForText(page, "#detail-title", `Job #${dep} · parts`);
      assert.match(page.url(), new RegExp(`#/q/parts/pending/job/${dep}$`));
      await page.goBack();
      await waitForText(page, "#detail-title", `Job #${job} · asm`);

      // The dependency completes: the job, still open, turns pending without a reload.
      const claimed = await parts.reserve();
      assert.equal(claimed?.id, dep);
      if (claimed) await parts.complete(claimed, { wheels: 4 });
      await until("the job to be pending", async () => (await asm.get(job))?.state === "pending");
      await waitForText(page, '#detail:not([hidden]) [data-field="state"]', "pending");
      await waitForText(
        page,
        '[data-section="dependencies"] [data-field="dependencies"]',
        "1 of 1 completed",
      );
      await waitForText(page, 'tr[data-queue="asm"] td[data-state="waiting"]', "0");
      assert.equal(await page.$$eval("#detail b, main b", (n) => n.length), 0, "markup stays text");
    });
  });
}
