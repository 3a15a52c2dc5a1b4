/*
 * `spool import`: adds the jobs of an NDJSON export (from stdin) as new pending jobs. Each batch
 * is one transaction, committed in line order, so after any failure or Ctrl-C the lines already
 * imported form a prefix of the input: the command prints how many, and `--skip N` resumes.
 */
import { fstatSync } from "node:fs";
import type { Command } from "commander";
import { isPostgresTarget } from "../../open.js";
import type { AddOptions } from "../../types.js";
import {
  CliError,
  describeError,
  EXIT_SIGINT,
  EXIT_SIGTERM,
  InterruptedError,
  UsageError,
} from "../errors.js";
import { printJson } from "../format.js";
import { FreshIds } from "../fresh-ids.js";
import { BatchCheck } from "../in-doubt.js";
import { onInterrupt } from "../interrupt.js";
import { readLines } from "../lines.js";
import { parseCount, parsePositiveInt } from "../parse.js";
import { startProgress } from "../progress.js";
import { queueArg, showTarget, withSchemaOption, withSpool } from "../target.js";
import { waitingFor } from "../waiting.js";

const DEFAULT_BATCH = 1000;
/** Refusals caused by one record (not the store): worth finding which line it was. */
const INPUT_FAULTS = new Set<unknown>(["PAYLOAD_TOO_LARGE", "INVALID_ARGUMENT", "ENCODE"]);

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
    group?: unknown;
    state?: unknown;
    dependsOn?: unknown;
  };
  // A waiting job waits for jobs by id, and ids do not carry over to another store (nor to a
  // re-import into this one): the links cannot be recreated, and adding it pending would run
  // it before what it waits for. Refused, naming the way out: import it once its dependencies
  // completed, or delete its dependsOn (jq 'del(.dependsOn)') to add it pending on purpose.
  if (r.dependsOn !== undefined && r.dependsOn !== null) {
    const ids = Array.isArray(r.dependsOn) ? r.dependsOn.slice(0, 5).join(", ") : "?";
    const more = Array.isArray(r.dependsOn) && r.dependsOn.length > 5 ? ", …" : "";
    throw new Error(
      `a job that depends on other jobs (${ids}${more}): an import cannot recreate its dependencies (ids change) ` +
        "and would not add it waiting. Import it once they completed, or remove its dependsOn " +
        "(jq -c 'del(.dependsOn)') to add it as a pending job",
    );
  }
  if (r.state === "waiting") {
    throw new Error(
      'a waiting job without "dependsOn": an import cannot tell what it waits for; give its state as pending to add it as a pending job',
    );
  }
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
  if (r.group !== undefined && r.group !== null) {
    if (typeof r.group !== "string")
      throw new Error(`"group" must be a string, not ${JSON.stringify(r.group)}`);
    options.group = r.group;
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
    .option("--batch-size <n>", "jobs per transaction", parsePositiveInt, DEFAULT_BATCH)
    .option("--json", 'print {"imported", "duplicates", "skipped", "lines"}');
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Priority, maxAttempts, key and group are kept; state, ids, attempts and times are not.
A waiting job (one with "dependsOn") is refused, stopping the import at its line: the ids it
waits for do not carry over, and adding it pending would run it before them. Export it once they
completed, or drop the field (jq -c 'del(.dependsOn)') to add it pending on purpose.
If an import stops (a bad line, Ctrl-C, SIGTERM, a lost connection), the lines before the one it
stopped at are imported and the message gives the command, with --skip N, that resumes it from
the same input. Interrupted by SIGINT it exits 130, by SIGTERM 143; a bad line exits 1.

Examples:
  $ spool import jobs.db emails < emails.ndjson
  $ spool import jobs.db emails --skip 42000 < emails.ndjson
  $ spool export old.db emails | spool import new.db emails`,
    )
    .action(async (db: string, queueName: string, flags: ImportFlags) => {
      queueArg(queueName);
      if (process.stdin.isTTY)
        throw new UsageError("pipe the NDJSON into stdin, e.g. spool import jobs.db q < q.ndjson");
      const totalBytes = stdinSize();
      let done = flags.skip; // lines fully handled (committed or blank), counting skipped ones
      let read = flags.skip; // lines read, the batch in flight included
      let imported = 0;
      let duplicates = 0;
      const resume = () => resumeHint(db, queueName, flags, imported, done);
      // Ctrl-C or SIGTERM stops reading; what was read is committed, and the resume point is
      // reported. Closing the line reader (not just destroying stdin) is what ends the loop.
      // A second signal exits at once: the batch in flight may or may not have been committed.
      const stop = new AbortController();
      const interrupt = onInterrupt({
        onFirst: () => stop.abort(),
        first: (signal) =>
          `${signal}: committing the lines read so far (through line ${read}), then stopping; send it again to stop at once`,
        second: (signal) =>
          `stopped by a second ${signal}. ${resume()}` +
          (read > done
            ? `; if lines ${done + 1}–${read}, whose commit was under way, show up in the queue, use --skip ${read} instead`
            : ""),
      });
      const stopWaiting = waitingFor("importing stdin");
      try {
        await withSpool(db, { create: true, schema: flags.schema }, async (spool) => {
          const queue = spool.queue(queueName);
          const fresh = new FreshIds(queue);
          const check = new BatchCheck(queue, isPostgresTarget(db));
          const progress = startProgress({
            total: totalBytes ?? 0,
            format: totalBytes ? "import {bar} {percentage}% | {jobs} jobs" : "import {jobs} jobs",
            fields: { jobs: 0 },
          });
          let batch: { record: Record; number: number }[] = [];
          let bytes = 0;
          /** Adds one run of records with equal options; on a refusal, names the input line. */
          const addRun = async (run: { record: Record; number: number }[]) => {
            let ids: number[];
            await fresh.before(run[0]?.record.options.key !== undefined);
            await check.before();
            const payloads = run.map((x) => x.record.payload);
            try {
              ids = await queue.addBatch(payloads, run[0]?.record.options);
            } catch (error) {
              const code = (error as { code?: unknown }).code;
              if (!INPUT_FAULTS.has(code)) {
                // A lost connection may have lost only the answer: count the batch if it landed.
                const landed = await check.landed(payloads);
                if (landed === true) {
                  imported += run.length;
                  done = run[run.length - 1]?.number ?? done;
                } else if (landed === null) {
                  throw new CliError(`${describeError(error)}. ${inDoubtHint(run, resume)}`);
                }
                throw error;
              }
              if (run.length === 1) {
                throw new CliError(`stdin line ${run[0]?.number}: ${describeError(error)}. ${resume()}`);
              }
              // The transaction wrote nothing: add the run one by one, so the lines before the
              // refused one are kept (the imported lines stay a prefix) and the error names it.
              for (const one of run) await addRun([one]);
              return;
            }
            // A record whose key matches a live job added nothing: it is a duplicate, not imported.
            check.after(ids);
            const added = fresh.count(ids);
            imported += added;
            duplicates += run.length - added;
            done = run[run.length - 1]?.number ?? done;
          };
          const flush = async (through: number) => {
            // Consecutive records with equal options go in one addBatch (one transaction).
            for (let start = 0; start < batch.length; ) {
              let end = start + 1;
              while (end < batch.length && batch[end]?.record.group === batch[start]?.record.group) end++;
              await addRun(batch.slice(start, end));
              start = end;
            }
            batch = [];
            done = through;
            progress.update(bytes, { jobs: imported });
          };
          try {
            for await (const { line, number } of readLines(process.stdin, stop.signal)) {
              bytes += Buffer.byteLength(line) + 1;
              if (number <= flags.skip) continue;
              read = number;
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
        stopWaiting();
        interrupt.off();
      }
      const interrupted = interrupt.signal;
      if (interrupted !== null) {
        throw new InterruptedError(
          `interrupted by ${interrupted}. ${resume()}`,
          interrupted === "SIGTERM" ? EXIT_SIGTERM : EXIT_SIGINT,
        );
      }
      if (flags.json) printJson({ imported, duplicates, skipped: flags.skip, lines: done });
      else {
        const dup =
          duplicates === 0
            ? ""
            : ` (${duplicates} line${duplicates === 1 ? "" : "s"} skipped: a live job of the queue has that key)`;
        process.stdout.write(
          `imported ${imported} job${imported === 1 ? "" : "s"} into ${queueName}${dup}\n`,
        );
      }
    });
}

/**
 * The command that picks up where this one stopped: the same target, queue and options, with
 * `--skip` the number of input lines already handled. A password shown as *** must be put back.
 */
function resumeHint(db: string, queue: string, flags: ImportFlags, imported: number, done: number): string {
  const shown = showTarget(db);
  const args = [shellWord(shown), queue];
  if (flags.schema !== undefined) args.push("--schema", flags.schema);
  if (flags.batchSize !== DEFAULT_BATCH) args.push("--batch-size", String(flags.batchSize));
  const password = shown === db ? "" : ", with your password in place of ***";
  return (
    `${imported} job${imported === 1 ? " was" : "s were"} imported; resume with: ` +
    `spool import ${args.join(" ")} --skip ${done} (on the same input${password})`
  );
}

/**
 * The hint when the failed batch may or may not be in the queue: both resume points, and how
 * to tell which applies (its first line's payload is the job to look for).
 */
function inDoubtHint(run: readonly { number: number }[], resume: () => string): string {
  const first = run[0]?.number ?? 0;
  const last = run[run.length - 1]?.number ?? first;
  return (
    `The batch of stdin lines ${first}–${last} was being committed when the store stopped answering: ` +
    `it may be in the queue or not. ${resume()} if it is not; if it is (its jobs are the queue's ` +
    `newest, starting with line ${first}'s payload), resume with --skip ${last} instead`
  );
}

/** Quotes a word for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
