/* `spool export`: every job of a queue (or of one state) as NDJSON on stdout. */
import { once } from "node:events";
import type { Command } from "commander";
import { JOB_STATES, type JobState } from "../../types.js";
import { exportLine } from "../export-line.js";
import { parseState } from "../parse.js";
import { startProgress } from "../progress.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";
import { wholeJobs } from "../whole-jobs.js";

interface ExportFlags {
  state?: JobState;
  schema?: string;
}

async function write(text: string | Buffer): Promise<void> {
  // Respect the pipe's pace, so exporting a big queue never buffers it all in memory.
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
}

export function registerExport(program: Command): void {
  const command = program
    .command("export")
    .description("write every job of a queue (or of one state) as NDJSON on stdout; binary payloads base64")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .option("--state <state>", `only this state: ${JOB_STATES.join(", ")}`, parseState);
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Each line is one job: {"id", "queue", "state", "attempts", "maxAttempts", "priority", "key"?,
"createdAt", "runAt", …, "payload", "encoding"?}; a binary payload is base64 with "encoding": "base64".
Progress goes to stderr when it is a terminal.

Examples:
  $ spool export jobs.db emails > emails.ndjson
  $ spool export jobs.db emails --state dead | spool import other.db emails`,
    )
    .action(async (db: string, queueName: string, flags: ExportFlags) => {
      queueArg(queueName);
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        const queue = spool.queue(queueName);
        const states = flags.state ? [flags.state] : JOB_STATES;
        const size = await queue.size();
        const total = states.reduce((sum, s) => sum + size[s], 0);
        const progress = startProgress({
          total,
          format: "export {bar} {value}/{total} jobs | {duration_formatted}",
        });
        let done = 0;
        try {
          // Id order across states, so an import keeps the jobs' original order; whole rows,
          // undecoded, each line written from the stored bytes (export-line.ts) as it is read.
          for await (const job of wholeJobs(queue, states, 0)) {
            for (const part of exportLine(job)) await write(part);
            done++;
            // Jobs may be added while exporting: let the bar's total follow.
            if (done > total) progress.setTotal(done);
            progress.update(done);
          }
        } finally {
          progress.stop();
        }
      });
    });
}
