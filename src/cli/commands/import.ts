/*
 * `spool import`: adds the jobs of an NDJSON export (from stdin) as new pending jobs. Each batch
 * is one transaction, committed in line order, so after any failure or Ctrl-C the lines already
 * imported form a prefix of the input: the command prints how many, and `--skip N` resumes.
 */
import { fstatSync } from "node:fs";
import type { Command } from "commander";
import type { AddOptions } from "../../types.js";
import { CliError, describeError, UsageError } from "../errors.js";
import { printJson } from "../format.js";
import { readLines } from "../lines.js";
import { parseCount, parsePositiveInt } from "../parse.js";
import { startProgress } from "../progress.js";
import { showTarget, withSchemaOption, withSpool } from "../target.js";

interface ImportFlags {
  skip: number;
  batchSize: number;
  json?: boolean;
  schema?: string;
}

interface Record {
  payload: unknown;
  options: AddOptions;
  /** Same options ⇒ same addBatch call; a run of such records is one transaction. */
  group: string;
}

/** One export line → payload and the options worth keeping (state, ids and times are not). */
function parseRecord(line: string): Record {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error("not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || !("payload" in value)) {
    throw new Error(
      'not an export record: expected an object with a "payload" field (to add raw payloads use spool add)',
    );
  }
  const r = value as {
    payload: unknown;
    encoding?: unknown;
    priority?: unknown;
    maxAttempts?: unknown;
    key?: unknown;
  };
  let payload = r.payload;
  if (r.encoding === "base64") {
    if (typeof payload !== "string") throw new Error('"encoding": "base64" needs a string payload');
    payload = Buffer.from(payload, "base64");
  } else if (r.encoding !== undefined && r.encoding !== "json") {
    throw new Error(`unknown encoding ${JSON.stringify(r.encoding)}; expected "base64" or none`);
  }
  const options: AddOptions = {};
  if (r.priority !== undefined) {
    if (!Number.isSafeInteger(r.priority))
      throw new Error(`"priority" must be an integer, not ${JSON.stringify(r.priority)}`);
    options.priority = r.priority as number;
  }
  if (r.maxAttempts !== undefined) {
    if (!Number.isSafeInteger(r.maxAttempts) || (r.maxAttempts as number) < 1) {
      throw new Error(`"maxAttempts" must be an integer ≥ 1, not ${JSON.stringify(r.maxAttempts)}`);
    }
    options.maxAttempts = r.maxAttempts as number;
  }
  if (r.key !== undefined && r.key !== null) {
    if (typeof r.key !== "string") throw new Error(`"key" must be a string, not ${JSON.stringify(r.key)}`);
    options.key = r.key;
  }
  return { payload, options, group: JSON.stringify(options) };
}

/** Bytes of stdin when it is a file (redirected), for a byte-accurate progress bar. */
function stdinSize(): number | null {
  try {
    const stat = fstatSync(0);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}

export function registerImport(program: Command): void {
  const command = program
    .command("import")
    .description("add the jobs of an NDJSON export (stdin) as new pending jobs; one transaction per batch")
    .argument("<db>", "SQLite file (created if missing) or postgres:// URL")
    .argument("<queue>", "queue name to add them to")
    .option("--skip <n>", "skip the first n lines (resume an interrupted import)", parseCount, 0)
    .option("--batch-size <n>", "jobs per transaction", parsePositiveInt, 1000)
    .option("--json", 'print {"imported", "skipped", "lines"}');
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Priority, maxAttempts and key are kept; state, ids, attempts and times are not.
If an import stops (a bad line, Ctrl-C, a lost connection), the lines before the failed batch are
imported and the message says which --skip resumes it.

Examples:
  $ spool import jobs.db emails < emails.ndjson
  $ spool import jobs.db emails --skip 42000 < emails.ndjson
  $ spool export old.db emails | spool import new.db emails`,
    )
    .action(async (db: string, queueName: string, flags: ImportFlags) => {
      if (process.stdin.isTTY)
        throw new UsageError("pipe the NDJSON into stdin, e.g. spool import jobs.db q < q.ndjson");
      const totalBytes = stdinSize();
      // Ctrl-C stops reading; what was read is committed, and the resume point is reported.
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        process.stdin.destroy();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let done = flags.skip; // lines fully handled (committed or blank), counting skipped ones
      let imported = 0;
      const resume = () =>
        `${imported} jobs were imported; resume with: spool import ${showTarget(db)} ${queueName} --skip ${done}`;
      try {
        await withSpool(db, { create: true, schema: flags.schema }, async (spool) => {
          const queue = spool.queue(queueName);
          const progress = startProgress({
            total: totalBytes ?? 0,
            format: totalBytes ? "import {bar} {percentage}% | {jobs} jobs" : "import {jobs} jobs",
            fields: { jobs: 0 },
          });
          let batch: { record: Record; number: number }[] = [];
          let bytes = 0;
          const flush = async (through: number) => {
            // Consecutive records with equal options go in one addBatch (one transaction).
            for (let start = 0; start < batch.length; ) {
              let end = start + 1;
              while (end < batch.length && batch[end]?.record.group === batch[start]?.record.group) end++;
              const run = batch.slice(start, end);
              await queue.addBatch(
                run.map((x) => x.record.payload),
                run[0]?.record.options,
              );
              imported += run.length;
              done = run[run.length - 1]?.number ?? done;
              start = end;
            }
            batch = [];
            done = through;
            progress.update(bytes, { jobs: imported });
          };
          try {
            for await (const { line, number } of readLines(process.stdin)) {
              bytes += Buffer.byteLength(line) + 1;
              if (number <= flags.skip) continue;
              if (line.trim() === "") {
                if (batch.length === 0) done = number;
                continue;
              }
              let record: Record;
              try {
                record = parseRecord(line);
              } catch (error) {
                await flush(number - 1);
                throw new CliError(`stdin line ${number}: ${(error as Error).message}. ${resume()}`);
              }
              batch.push({ record, number });
              if (batch.length >= flags.batchSize) await flush(number);
            }
            await flush(Math.max(done, batch.at(-1)?.number ?? done));
          } finally {
            progress.stop();
          }
        });
      } catch (error) {
        if (error instanceof CliError || error instanceof UsageError) throw error;
        throw new CliError(`${describeError(error)}. ${resume()}`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      if (interrupted) throw new CliError(`interrupted. ${resume()}`);
      if (flags.json) printJson({ imported, skipped: flags.skip, lines: done });
      else process.stdout.write(`imported ${imported} job${imported === 1 ? "" : "s"} into ${queueName}\n`);
    });
}
