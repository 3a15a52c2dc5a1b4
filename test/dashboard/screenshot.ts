/*
 * Regenerates docs/dashboard.png: several queues with jobs in every state, workers running
 * under a load that rises and falls (so the chart has a shape), then one screenshot.
 * Not a test. Run: npx tsx test/dashboard/screenshot.ts [seconds of load, default 150]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startDashboard } from "../../src/dashboard/server.js";
import { Spool } from "../../src/index.js";
import { launchBrowser } from "./helpers.js";

const seconds = Number(process.argv[2] ?? 150);
const output = resolve("docs/dashboard.png");
const dir = await mkdtemp(join(tmpdir(), "spool-shot-"));
// Opened by a relative name, so the header shows "jobs.db" rather than a temp path.
process.chdir(dir);
const spool = await Spool.open("jobs.db", { durability: "normal" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

const emails = spool.queue("emails", { maxAttempts: 2, backoff: { type: "fixed", delay: 2000 } });
const resize = spool.queue("images.resize");
const webhooks = spool.queue("webhooks", { maxAttempts: 2, backoff: { type: "fixed", delay: 1500 } });
const reports = spool.queue("reports.nightly");
const invoices = spool.queue("billing.invoices");

const domains = ["example.com", "acme.io", "globex.net", "initech.org"];
const people = ["ada", "grace", "linus", "margaret", "ken", "barbara", "dennis"];

// Background jobs that stay put: delayed reports, a few long-running handlers (reserved).
await reports.addBatch(
  Array.from({ length: 6 }, (_, i) => ({
    report: pick(["revenue", "churn", "usage"]),
    day: `2025-06-${10 + i}`,
  })),
  { delay: 6 * 3_600_000 },
);
// A backlog no worker serves yet: pending jobs with an oldest age that grows.
await invoices.addBatch(
  Array.from({ length: 37 }, (_, i) => ({ invoice: `INV-2025-${String(1800 + i)}`, customer: pick(people) })),
);
await resize.addBatch(
  Array.from({ length: 4 }, (_, i) => ({
    src: `uploads/IMG_${4200 + i}.heic`,
    sizes: [320, 1280],
    slow: true,
  })),
);

const workers = [
  emails.process(
    async (job) => {
      await sleep(30 + Math.random() * 120);
      if (Math.random() < 0.06) throw new Error("SMTP 421: service not available, try again later");
      return { messageId: `<${job.id}@mail.example.com>` };
    },
    { concurrency: 8 },
  ),
  webhooks.process(
    async () => {
      await sleep(50 + Math.random() * 200);
      if (Math.random() < 0.12) throw new Error("POST https://hooks.acme.io/spool → 502 Bad Gateway");
    },
    { concurrency: 4 },
  ),
  resize.process(
    async (job) =>
      await sleep((job.payload as { slow?: boolean }).slow ? 600_000 : 200 + Math.random() * 300),
    {
      concurrency: 6,
    },
  ),
];

// The page is open all along: the chart's samples are taken only while someone is looking.
const server = await startDashboard(spool, { port: 0 });
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1360, height: 1000 }, deviceScaleFactor: 1.5 });
await page.goto(server.url);

// A load that rises and falls over the run.
const started = Date.now();
while (Date.now() - started < seconds * 1000) {
  const phase = (Date.now() - started) / 1000;
  const wave = 0.55 + 0.45 * Math.sin(phase / 14);
  const n = Math.round(14 * wave + Math.random() * 4);
  await emails.addBatch(
    Array.from({ length: n }, () => ({
      to: `${pick(people)}@${pick(domains)}`,
      template: pick(["welcome", "receipt", "password-reset", "digest"]),
      locale: pick(["en", "fr", "de"]),
    })),
  );
  if (Math.random() < wave) {
    await webhooks.add({ event: pick(["invoice.paid", "user.created", "order.shipped"]), attempt: 1 });
  }
  if (Math.random() < 0.3)
    await resize.add({ src: `uploads/IMG_${5000 + Math.floor(phase)}.jpg`, sizes: [320] });
  await sleep(250);
}

await page.goto(`${server.url}#/q/webhooks/dead`);
await page.waitForSelector("#jobs tbody tr[data-job-id]");
await page.waitForSelector("#chart svg[data-points]");
await page.screenshot({ path: output, fullPage: true });
await browser.close();
await Promise.all(workers.map((w) => w.stop({ timeout: 100 })));
await server.close();
await spool.close();
process.chdir(tmpdir());
await rm(dir, { recursive: true, force: true });
console.log("wrote docs/dashboard.png");
