/*
 * `spool show`: one job, whole, with what it depends on: each dependency's queue and state for
 * the first SHOWN of them (see dependency-view.ts), how many completed of all of them.
 */
import type { Command } from "commander";
import type { StoredJob } from "../../backend.js";
import { type DependenciesShown, showDependencies } from "../../dependency-view.js";
import { CliError, UsageError } from "../errors.js";
import { exportLine } from "../export-line.js";
import { formatWhen, previewStored, renderTable } from "../format.js";
import { parsePositiveInt } from "../parse.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";
import { oneLine, safeJson } from "../terminal.js";

interface ShowFlags {
  json?: boolean;
  schema?: string;
}

/** Dependencies looked up (queue and state) and listed; the rest are counted. */
export const SHOWN = 20;
/** Characters of payload and error the human view prints (`--json` prints them whole). */
const SHOWN_CHARS = 2000;

function humanView(job: StoredJob, deps: DependenciesShown): string {
  const now = Date.now();
  const fields: [string, string][] = [
    ["state", job.state],
    ["attempts", `${job.attempts}/${job.maxAttempts}`],
    ["priority", String(job.priority)],
  ];
  if (job.key !== null) fields.push(["key", job.key]);
  if (job.group != null) fields.push(["group", job.group]);
  fields.push([
    "created",
    `${new Date(job.createdAt).toISOString()} (${formatWhen(new Date(job.createdAt), now)})`,
  ]);
  fields.push(["run at", `${new Date(job.runAt).toISOString()} (${formatWhen(new Date(job.runAt), now)})`]);
  if (job.finishedAt !== null) fields.push(["finished", new Date(job.finishedAt).toISOString()]);
  if (job.lastError !== null) fields.push(["last error", job.lastError.slice(0, SHOWN_CHARS)]);
  fields.push(["payload", previewStored(job, SHOWN_CHARS)]);
  if (deps.total > 0) fields.push(["depends on", `${deps.total} job(s), ${deps.done} completed`]);
  const width = Math.max(...fields.map(([name]) => name.length));
  // Every value is data from the store: one line each, controls shown as characters.
  const lines = [`job ${job.id} of ${oneLine(job.queue)}`, ""];
  for (const [name, value] of fields) lines.push(`${name.padEnd(width)}  ${oneLine(value)}`);
  if (deps.items.length > 0) {
    const rows = deps.items.map((d) => [String(d.id), d.queue ?? "?", d.state ?? "gone"]);
    const table = renderTable(
      [{ header: "ID", align: "right" }, { header: "QUEUE" }, { header: "STATE" }],
      rows,
    );
    lines.push("", ...table.split("\n").map((l) => `  ${l}`));
    const more = deps.total - deps.items.length;
    if (more > 0) lines.push(`  … and ${more} more (spool show --json lists every id)`);
  }
  return lines.join("\n");
}

export function registerShow(program: Command): void {
  const command = program
    .command("show")
    .description("one job: its fields, payload, and the jobs it depends on with their state")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .argument("<id>", "job id")
    .option(
      "--json",
      'print {"job": <as export writes it, with dependsOn>, "dependencies": {total, done, items: [{id, done, queue, state}]}}',
    );
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
The first ${SHOWN} dependencies are listed with their queue and state ("gone" when no longer
stored and not completed); the others are counted.

Examples:
  $ spool show jobs.db publish 42
  $ spool show jobs.db publish 42 --json | jq '.job.dependsOn'`,
    )
    .action(async (db: string, queueName: string, idText: string, flags: ShowFlags) => {
      queueArg(queueName);
      let id: number;
      try {
        id = parsePositiveInt(idText);
      } catch (error) {
        throw new UsageError(`job id ${(error as Error).message}`);
      }
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        // Read straight from the store, as stats does: looking registers no queue.
        spool.ctx.assertOpen();
        const job = await spool.ctx.backend.get(queueName, id);
        if (job === null) throw new CliError(`job ${id} is not in queue ${queueName}`);
        const deps = await showDependencies(spool, queueName, id, SHOWN);
        if (flags.json) {
          const parts = exportLine(job, "");
          process.stdout.write('{"job":');
          for (const part of parts) process.stdout.write(part);
          process.stdout.write(`,"dependencies":${safeJson(JSON.stringify(deps))}}\n`);
          return;
        }
        process.stdout.write(`${humanView(job, deps)}\n`);
      });
    });
}
