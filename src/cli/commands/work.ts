/*
 * `spool work`: runs a module's default-exported handler as a worker. The first SIGINT/SIGTERM
 * stops it gracefully (no new jobs, running ones finish); a second aborts the running handlers,
 * whose jobs go back to pending at once, and exits.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { SpoolError } from "../../errors.js";
import { DEFAULT_LEASE } from "../../queue.js";
import { redactText } from "../../redact.js";
import type { Job } from "../../types.js";
import { checkWorkerOptions } from "../../worker-options.js";
import { CliError, describeError, EXIT_FAILURE, UsageError } from "../errors.js";
import { parsePositiveDuration, parsePositiveInt } from "../parse.js";
import { queueArg, showTarget, withSchemaOption, withSpool } from "../target.js";
import { oneLine } from "../terminal.js";
import { waitingFor } from "../waiting.js";

interface WorkFlags {
  concurrency: number;
  lease?: number;
  timeout?: number;
  verbose?: boolean;
  schema?: string;
}

type Handler = (
  job: Job<unknown>,
  context: { signal: AbortSignal; extend(ms: number): Promise<void> },
) => unknown;

/** A second signal that does not finish the forced stop within this exits regardless. */
const FORCE_GRACE_MS = 2000;

/** One log line on stderr: no password, no control character (job errors are data). */
function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${oneLine(redactText(line))}\n`);
}

/** Imports the module (a file path, relative to the current directory) and finds its handler. */
async function loadHandler(spec: string): Promise<Handler> {
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw new CliError(`no module at ${spec} (looked for ${path}); give the path of a .js/.mjs file.`);
  }
  let mod: { default?: unknown };
  const stopWaiting = waitingFor(`loading the worker module ${spec} (its top-level await never settled)`);
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new CliError(`cannot load ${spec}: ${describeError(error)}`);
  } finally {
    stopWaiting();
  }
  // A CommonJS module's `module.exports = fn` arrives as default; `exports.default = fn` one level down.
  let handler = mod.default;
  if (typeof handler === "object" && handler !== null && "default" in handler) handler = handler.default;
  if (typeof handler !== "function") {
    throw new CliError(
      `${spec} has no default-exported function; write e.g. export default async function (job) { … }`,
    );
  }
  return handler as Handler;
}

/** Runs `check`; the library's INVALID_ARGUMENT becomes bad usage quoting the flags as typed. */
function usage<R>(given: ReadonlyMap<string, string>, check: () => R): R {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof SpoolError) || error.code !== "INVALID_ARGUMENT") throw error;
    const typed = [...given].map(([flag, text]) => `${flag} ${JSON.stringify(text)}`).join(", ");
    throw new UsageError(`${typed ? `${typed}: ` : ""}${error.message}`);
  }
}

export function registerWork(program: Command): void {
  // The durations as typed, so a refusal quotes "--lease 0.4", not the whole ms it became.
  const given = new Map<string, string>();
  const duration = (flag: string) => (text: string) => {
    given.set(flag, text);
    return parsePositiveDuration(text);
  };
  const command = program
    .command("work")
    .description("run a module's default-exported handler as a worker until SIGINT/SIGTERM")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .argument("<module>", "path of an ES or CommonJS module whose default export handles one job")
    .option("-c, --concurrency <n>", "jobs handled at once", parsePositiveInt, 1)
    .option(
      "--lease <duration>",
      "reservation length, kept alive while the handler runs",
      duration("--lease"),
    )
    .option("--timeout <duration>", "abort a handler after this and fail its job", duration("--timeout"))
    .option("-v, --verbose", "also log one line per completed job");
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
The handler gets (job, { signal, extend }); what it returns completes the job, a throw fails it
(retried with backoff, dead once attempts are spent). One line is logged per failure.
Ctrl-C (or SIGTERM) stops gracefully: running jobs finish. A second one aborts them; their jobs
return to pending at once.

Example handler (send-email.mjs):
  export default async function (job) { await send(job.payload); return "sent"; }

Examples:
  $ spool work jobs.db emails ./send-email.mjs
  $ spool work jobs.db emails ./send-email.mjs --concurrency 8 --timeout 30s`,
    )
    .action(async (db: string, queueName: string, modulePath: string, flags: WorkFlags) => {
      queueArg(queueName);
      const options: { concurrency: number; lease?: number; timeout?: number } = {
        concurrency: flags.concurrency,
      };
      if (flags.lease !== undefined) options.lease = flags.lease;
      if (flags.timeout !== undefined) options.timeout = flags.timeout;
      // The library's check of a worker's options (a lease long enough to renew, say), made
      // before the module is loaded (its top-level code runs) or the database opened: bad usage
      // does neither. The CLI's queue has the default lease, the one queue.process checks against.
      usage(given, () => checkWorkerOptions(options, { name: queueName, lease: DEFAULT_LEASE }));
      const handler = await loadHandler(modulePath);
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        const queue = spool.queue(queueName);
        const worker = usage(given, () => queue.process(handler, options));
        let completed = 0;
        let failed = 0;
        worker.on("completed", (job: Job<unknown>) => {
          completed++;
          if (flags.verbose) log(`job ${job.id} completed (attempt ${job.attempts}/${job.maxAttempts})`);
        });
        worker.on("failed", (job: Job<unknown>, error: unknown, state: string) => {
          failed++;
          const next = state === "dead" ? "dead" : "will retry";
          const message = describeError(error).replace(/\s+/g, " ");
          log(`job ${job.id} failed (attempt ${job.attempts}/${job.maxAttempts}, ${next}): ${message}`);
        });
        worker.on("error", (error: unknown) => log(`worker error: ${describeError(error)}`));
        log(
          `working on queue ${queueName} of ${showTarget(db)} (concurrency ${flags.concurrency}); Ctrl-C stops gracefully`,
        );
        // The worker's own timers do not hold the process open (a library must not), and a
        // handler awaiting something outside Node (or nothing) would let it exit mid-job.
        const keepAlive = setInterval(() => {}, 1 << 30);
        await new Promise<void>((done, fail) => {
          let signals = 0;
          const onSignal = (signal: NodeJS.Signals) => {
            signals++;
            if (signals === 1) {
              log(`${signal}: stopping; waiting for running jobs to finish (send it again to abort them)`);
              worker.stop().then(done, fail);
            } else if (signals === 2) {
              log(`${signal} again: aborting running jobs; they return to pending`);
              process.exitCode = EXIT_FAILURE;
              // Asks the worker to abort at once; should it still wait on a handler that ignores
              // its signal, exit anyway: leases bring those jobs back, so none is lost.
              worker.stop({ timeout: 1 }).then(done, fail);
              setTimeout(() => process.exit(EXIT_FAILURE), FORCE_GRACE_MS).unref();
            } else {
              process.exit(EXIT_FAILURE);
            }
          };
          process.on("SIGINT", onSignal);
          process.on("SIGTERM", onSignal);
        });
        clearInterval(keepAlive);
        log(`stopped: ${completed} completed, ${failed} failed`);
      });
    });
}
