/*
 * `spool demo`: the README's first command. It fills ./spool-demo.db with a realistic mix (plain,
 * prioritised, delayed and failing jobs), drains it with workers while showing progress and
 * throughput, and ends with the stats table and where to look next. Seconds, not minutes.
 */
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { Spool } from "../../index.js";
import type { Job } from "../../types.js";
import { CliError } from "../errors.js";
import { formatDuration, printJson } from "../format.js";
import { parsePositiveInt } from "../parse.js";
import { startProgress } from "../progress.js";
import { collectStats, statsJson, statsTable } from "./stats.js";

const DB = "spool-demo.db";
/** The demo must end well within a minute; past this something is wrong, so say so. */
const DEADLINE_MS = 50_000;

interface DemoFlags {
  jobs: number;
  concurrency: number;
  json?: boolean;
}

type Webhook = { url: string; fails: "never" | "once" | "always" };

/** Enqueues the mix; returns how many jobs were added. Each addBatch is one transaction. */
async function fill(spool: Spool, n: number): Promise<number> {
  const emails = spool.queue<{ to: string; template: string }>("emails");
  const thumbnails = spool.queue<{ image: string; size: number }>("thumbnails");
  const reports = spool.queue<{ report: string }>("reports");
  // Failing webhooks retry quickly (fixed 150ms) so the dead letters appear within the demo.
  const webhooks = spool.queue<Webhook>("webhooks", {
    maxAttempts: 3,
    backoff: { type: "fixed", delay: 150 },
  });

  const nEmails = Math.round(n * 0.55);
  const nThumbs = Math.round(n * 0.25);
  const nReports = Math.round(n * 0.1);
  const nHooks = n - nEmails - nThumbs - nReports;

  await emails.addBatch(
    Array.from({ length: nEmails }, (_, i) => ({
      to: `user${i}@example.com`,
      template: i % 3 ? "welcome" : "receipt",
    })),
  );
  const thumbs = Array.from({ length: nThumbs }, (_, i) => ({ image: `photos/${i}.jpg`, size: 128 }));
  // Every fifth thumbnail is urgent: priority 10 jumps the line.
  await thumbnails.addBatch(thumbs.filter((_, i) => i % 5 !== 0));
  await thumbnails.addBatch(
    thumbs.filter((_, i) => i % 5 === 0),
    { priority: 10 },
  );
  // Reports are scheduled 1–2 s ahead, in ten groups.
  for (let g = 0; g < 10; g++) {
    const group = Array.from({ length: nReports }, (_, i) => i)
      .filter((i) => i % 10 === g)
      .map((i) => ({ report: `daily-${i}` }));
    if (group.length > 0) await reports.addBatch(group, { delay: 1000 + g * 100 });
  }
  const fails = (i: number): Webhook["fails"] => (i % 4 === 0 ? "always" : i % 4 === 1 ? "once" : "never");
  await webhooks.addBatch(
    Array.from({ length: nHooks }, (_, i) => ({ url: `https://example.com/hook/${i}`, fails: fails(i) })),
  );
  return nEmails + nThumbs + nReports + nHooks;
}

/** Simulated work: a few milliseconds each, and webhooks that fail as their payload says. */
async function handle(job: Job<unknown>): Promise<unknown> {
  await sleep(1 + Math.floor(Math.random() * 4));
  const payload = job.payload as Partial<Webhook>;
  if (payload.fails === "always") throw new Error(`${payload.url} answered 503 Service Unavailable`);
  if (payload.fails === "once" && job.attempts === 1) throw new Error(`${payload.url} timed out`);
  return { ok: true };
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(`fill ./${DB} with a mix of jobs and watch workers drain it (the first thing to try)`)
    .option("--jobs <n>", "how many jobs to enqueue", parsePositiveInt, 3000)
    .option("-c, --concurrency <n>", "jobs handled at once per queue", parsePositiveInt, 8)
    .option("--json", "print a JSON summary instead of the table")
    .addHelpText(
      "after",
      `
Creates ./${DB} afresh (an earlier one is deleted), enqueues plain, prioritised, delayed
(1–2 s) and failing jobs in four queues, and runs a worker per queue until every job has
completed or, after 3 attempts, gone dead.

Examples:
  $ spool demo
  $ spool demo --jobs 20000 --concurrency 16`,
    )
    .action(async (flags: DemoFlags) => {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${DB}${suffix}`, { force: true });
      // "normal" survives a crashed process; power-loss durability is not what a demo shows.
      const spool = await Spool.open(DB, { durability: "normal" });
      const out = flags.json ? process.stderr : process.stdout;
      try {
        const total = await fill(spool, flags.jobs);
        out.write(`Enqueued ${total} jobs into ${DB} (queues: emails, thumbnails, reports, webhooks).\n`);
        const started = Date.now();
        const tally = { done: 0, dead: 0, retries: 0 };
        const rate = () => Math.round(tally.done / Math.max(0.001, (Date.now() - started) / 1000));
        const progress = startProgress({
          total,
          format:
            "{bar} {percentage}% | {value}/{total} jobs | {rate} jobs/s | {retries} retries | {dead} dead",
          fields: { rate: 0, retries: 0, dead: 0 },
          plainLine: (value, all, f) =>
            `  ${value}/${all} jobs done, ${f.rate} jobs/s, ${f.retries} retries, ${f.dead} dead`,
          plainEveryMs: 1000,
          plainStream: out,
        });
        let finish = () => {};
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        const tick = () => {
          progress.update(tally.done, { rate: rate(), retries: tally.retries, dead: tally.dead });
          if (tally.done >= total) finish();
        };
        const workers = ["emails", "thumbnails", "reports", "webhooks"].map((name) => {
          const worker = spool
            .queue(name)
            .process(handle, { concurrency: flags.concurrency, pollInterval: 200 });
          worker.on("completed", () => {
            tally.done++;
            tick();
          });
          worker.on("failed", (_job: unknown, _error: unknown, state: string) => {
            if (state === "dead") {
              tally.done++;
              tally.dead++;
            } else tally.retries++;
            tick();
          });
          return worker;
        });
        const stop = () => {
          progress.stop();
          process.stderr.write("\ninterrupted; the jobs left are still in spool-demo.db\n");
          process.exit(1);
        };
        process.once("SIGINT", stop);
        const deadline = setTimeout(finish, DEADLINE_MS);
        await finished;
        clearTimeout(deadline);
        process.off("SIGINT", stop);
        progress.update(tally.done, { rate: rate(), retries: tally.retries, dead: tally.dead });
        progress.stop();
        const seconds = (Date.now() - started) / 1000;
        await Promise.all(workers.map((w) => w.stop()));
        if (tally.done < total) {
          throw new CliError(
            `the demo did not finish within ${formatDuration(DEADLINE_MS)}: ${tally.done}/${total} jobs done.`,
          );
        }
        const rows = await collectStats(spool);
        if (flags.json) {
          printJson({
            jobs: total,
            seconds,
            completed: total - tally.dead,
            dead: tally.dead,
            retries: tally.retries,
            ...statsJson(rows),
          });
          return;
        }
        out.write(
          `\nProcessed ${total} jobs in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} jobs/s): ` +
            `${total - tally.dead} completed, ${tally.dead} dead after 3 attempts, ${tally.retries} retries.\n\n` +
            `${statsTable(rows)}\n\n` +
            "Where to look next:\n" +
            `  spool stats ${DB}                           this table, any time (--watch to follow it)\n` +
            `  spool list ${DB} webhooks --state dead      the dead letters and their last errors\n` +
            `  spool retry ${DB} webhooks --all            send them back to pending\n` +
            `  spool dashboard ${DB}                       the web dashboard at http://127.0.0.1:7070\n`,
        );
      } finally {
        await spool.close();
      }
    });
}
