/* `spool export`: every job of a queue (or of one state) as NDJSON on stdout. */
import { once } from "node:events";
import type { Command } from "commander";
import type { StoredJob } from "../../backend.js";
import { JOB_STATES, type JobState } from "../../types.js";
import { exportLine } from "../export-line.js";
import { pagePreviews } from "../jobs.js";
import { parseState } from "../parse.js";
import { startProgress } from "../progress.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";

interface ExportFlags {
  state?: JobState;
  schema?: string;
}

const PAGE = 1000;
/** A "preview" as long as any stored value can be (1 GiB in both stores): the whole row. */
const WHOLE = 2 ** 31 - 1;
/** Payload and result bytes read at once; a job larger than this is read alone. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** Splits a page of previews into runs of consecutive jobs of at most CHUNK_BYTES each. */
function chunks(page: readonly StoredJob[]): number[] {
  const counts: number[] = [];
  let count = 0;
  let bytes = 0;
  for (const job of page) {
    const size = (job.sizes?.payload ?? 0) + (job.sizes?.result ?? 0) + (job.sizes?.lastError ?? 0);
    if (count > 0 && bytes + size > CHUNK_BYTES) {
      counts.push(count);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += size;
  }
  if (count > 0) counts.push(count);
  return counts;
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
          // Id order across states, so an import keeps the jobs' original order. A page is read
          // as previews first (ids and sizes, no payloads), then whole jobs in runs of at most
          // CHUNK_BYTES, each written line by line: memory stays bounded by the largest job,
          // whatever the page holds (a page of 10 MB jobs is 10 GB).
          let after = 0;
          for (;;) {
            const page = await pagePreviews(queue, states, after, PAGE, 0);
            if (page.length === 0) break;
            for (const count of chunks(page)) {
              // Whole rows, undecoded: each line goes out from the stored bytes (export-line.ts).
              const jobs = await pagePreviews(queue, states, after, count, WHOLE);
              for (const job of jobs) for (const part of exportLine(job)) await write(part);
              done += jobs.length;
              // Jobs may be added while exporting: let the bar's total follow.
              if (done > total) progress.setTotal(done);
              progress.update(done);
              after = jobs[jobs.length - 1]?.id ?? after;
              if (jobs.length < count) break;
            }
          }
        } finally {
          progress.stop();
        }
      });
    });
}
