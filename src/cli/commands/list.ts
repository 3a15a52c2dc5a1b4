/* `spool list`: jobs of a queue, one line each, cut to the terminal's width. */
import { once } from "node:events";
import type { Command } from "commander";
import type { StoredDependency, StoredJob } from "../../backend.js";
import { JOB_STATES, type JobState } from "../../types.js";
import { exportLine } from "../export-line.js";
import { formatWhen, previewStored, renderTable, truncate } from "../format.js";
import { parseCount, parsePositiveInt, parseState } from "../parse.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";
import { oneLine } from "../terminal.js";
import { wholeJobs } from "../whole-jobs.js";

interface ListFlags {
  state?: JobState;
  limit: number;
  after: number;
  json?: boolean;
  schema?: string;
}

async function write(text: string | Buffer): Promise<void> {
  // Respect the pipe's pace, so a long listing is never buffered whole in memory.
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
}

function terminalWidth(): number {
  return process.stdout.columns || Number(process.env.COLUMNS) || 120;
}

/** Bytes of payload (characters of error) read per job: enough for any terminal's width. */
const PREVIEW_BYTES = 2048;

/** A job's progress in a cell: a percentage as `42%`, an object as its JSON, cut short. */
function progressCell(json: string | null): string {
  if (json === null) return "";
  return /^-?[0-9.e+-]+$/.test(json) ? `${json}%` : truncate(json, 30);
}

/** At most this many ids of what a waiting job still waits for, in its WAITS FOR cell. */
const WAIT_IDS = 3;

/**
 * What a waiting job waits for: the ids of its dependencies not completed yet (the first few,
 * then how many more), and how many of all its dependencies completed: `12, 15 +3 (2/7 done)`.
 */
export function waitsForCell(deps: readonly StoredDependency[]): string {
  const open = deps.filter((d) => !d.done).map((d) => d.id);
  const more = open.length > WAIT_IDS ? ` +${open.length - WAIT_IDS}` : "";
  const done = deps.length - open.length;
  return `${open.slice(0, WAIT_IDS).join(", ")}${more} (${done}/${deps.length} done)`;
}

function table(jobs: readonly StoredJob[], waits: ReadonlyMap<number, string>): string {
  const now = Date.now();
  const withErrors = jobs.some((j) => j.lastError !== null);
  const withProgress = jobs.some((j) => j.progress !== null);
  const withGroups = jobs.some((j) => j.group != null);
  const withWaits = waits.size > 0;
  const rows = jobs.map((j) => [
    String(j.id),
    j.state,
    `${j.attempts}/${j.maxAttempts}`,
    String(j.priority),
    formatWhen(new Date(j.runAt), now),
    ...(withGroups ? [truncate(j.group ?? "", 24)] : []),
    ...(withWaits ? [waits.get(j.id) ?? ""] : []),
    ...(withProgress ? [progressCell(j.progress)] : []),
    ...(withErrors ? [truncate((j.lastError ?? "").replace(/\s+/g, " "), 40)] : []),
  ]);
  const columns = [
    { header: "ID", align: "right" as const },
    { header: "STATE" },
    { header: "ATTEMPTS", align: "right" as const },
    { header: "PRIO", align: "right" as const },
    { header: "RUN AT" },
    ...(withGroups ? [{ header: "GROUP" }] : []),
    ...(withWaits ? [{ header: "WAITS FOR" }] : []),
    ...(withProgress ? [{ header: "PROGRESS" }] : []),
    ...(withErrors ? [{ header: "LAST ERROR" }] : []),
  ];
  // The payload takes whatever width the other columns leave, and at least a little.
  const used = columns.reduce(
    (sum, c, i) => sum + Math.max(c.header.length, ...rows.map((r) => oneLine(r[i] ?? "").length)) + 2,
    0,
  );
  const room = Math.max(16, terminalWidth() - used);
  for (const [i, j] of jobs.entries()) rows[i]?.push(previewStored(j, room));
  return renderTable([...columns, { header: "PAYLOAD" }], rows);
}

export function registerList(program: Command): void {
  const command = program
    .command("list")
    .description("jobs of a queue (of one state with --state), in id order")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .option("--state <state>", `only this state: ${JOB_STATES.join(", ")}`, parseState)
    .option("--limit <n>", "show at most n jobs", parsePositiveInt, 50)
    .option("--after <id>", "only jobs with a greater id (paging)", parseCount, 0)
    .option(
      "--json",
      "print a JSON array of whole jobs, one per line (binary payloads base64, with encoding: base64)",
    );
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool list jobs.db emails
  $ spool list jobs.db emails --state dead --limit 20
  $ spool list jobs.db emails --after 120 --json`,
    )
    .action(async (db: string, queueName: string, flags: ListFlags) => {
      queueArg(queueName);
      // No --state: every state, merged in id order.
      const states = flags.state ? [flags.state] : JOB_STATES;
      if (flags.json) {
        // Whole jobs, as `spool export` writes them (export-line.ts), in
        // a JSON array of one job per line, each written as it is read: a page of 10 MB jobs
        // is never one string (which cannot exceed V8's 512 MB) nor all in memory at once.
        await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
          let separator = "[\n";
          for await (const job of wholeJobs(spool.queue(queueName), states, flags.after, flags.limit)) {
            await write(separator);
            for (const part of exportLine(job, "")) await write(part);
            separator = ",\n";
          }
          await write(separator === "[\n" ? "[]\n" : "\n]\n");
        });
        return;
      }
      // The table shows a line per job: read previews, never whole payloads.
      const waits = new Map<number, string>();
      const jobs = await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        const queue = spool.queue(queueName);
        const page = await queue.browsePreviews(
          states,
          { after: flags.after, limit: flags.limit },
          PREVIEW_BYTES,
        );
        // What each waiting job waits for: one read per waiting job of the page (bounded by --limit).
        for (const job of page) {
          if (job.state !== "waiting") continue;
          const deps = await spool.ctx.backend.dependencies(queueName, job.id);
          if (deps.length > 0) waits.set(job.id, waitsForCell(deps));
        }
        return page;
      });
      if (jobs.length === 0) {
        process.stdout.write(`no ${flags.state ?? ""}${flags.state ? " " : ""}jobs in queue ${queueName}\n`);
        return;
      }
      process.stdout.write(`${table(jobs, waits)}\n`);
      const last = jobs[jobs.length - 1];
      if (jobs.length === flags.limit && last) {
        process.stderr.write(`(showing ${jobs.length}; more may follow: --after ${last.id})\n`);
      }
    });
}
