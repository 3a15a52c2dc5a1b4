#!/usr/bin/env node
/*
 * `spool`: inspect and repair queues from a terminal. This file wires the commands together and
 * owns the exit status: 0 success, 1 a runtime failure (message on stderr), 2 bad usage. Every
 * line written to stderr passes through scrub() so a database password is never echoed.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { rememberSecrets } from "../redact.js";
import { registerAdd } from "./commands/add.js";
import { registerBench } from "./commands/bench.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerDemo } from "./commands/demo.js";
import { registerExport } from "./commands/export.js";
import { registerImport } from "./commands/import.js";
import { registerList } from "./commands/list.js";
import { registerPause } from "./commands/pause.js";
import { registerPurge } from "./commands/purge.js";
import { registerRetry } from "./commands/retry.js";
import { registerSchedules } from "./commands/schedules.js";
import { registerShow } from "./commands/show.js";
import { registerStats } from "./commands/stats.js";
import { registerWork } from "./commands/work.js";
import {
  CliError,
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  InterruptedError,
  scrub,
  UsageError,
} from "./errors.js";
import { currentWait } from "./waiting.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function buildProgram(): Command {
  const program = new Command("spool");
  // Settings made before .command() are inherited by every subcommand.
  program
    .description(
      "Spool: a durable job queue. <db> is a SQLite file path or a postgres:// URL\n" +
        "(add ?schema=name to the URL, or --schema name, for a schema other than spool).",
    )
    .version(version(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(scrub(text)) })
    .showHelpAfterError("(see --help for usage and examples)")
    .helpCommand(true)
    .addHelpText(
      "after",
      `
Examples:
  $ spool demo                                  fill ./spool-demo.db and watch workers drain it
  $ spool stats jobs.db                         counts by queue and state
  $ spool list jobs.db emails --state dead      the dead letters of queue "emails"
  $ spool show jobs.db emails 42                one job, with the jobs it depends on
  $ spool retry jobs.db emails --all            send them back to pending
  $ spool stats postgres://app:***@db/app       the same on PostgreSQL

Exit status: 0 success, 1 runtime failure (message on stderr), 2 bad usage,
130/143 an import stopped by SIGINT/SIGTERM (the message says how to resume).`,
    );
  registerDemo(program);
  registerAdd(program);
  registerStats(program);
  registerList(program);
  registerShow(program);
  registerRetry(program);
  registerPause(program);
  registerSchedules(program);
  registerPurge(program);
  registerExport(program);
  registerImport(program);
  registerWork(program);
  registerDashboard(program);
  registerBench(program);
  return program;
}

/** Maps anything thrown to an exit status, writing the message (scrubbed) on stderr. */
function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message; help and --version exit 0, the rest are usage.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const code = (error as { code?: unknown } | null)?.code;
  const usage =
    error instanceof UsageError ||
    (error instanceof Error &&
      error.name === "SpoolError" &&
      (code === "INVALID_NAME" || code === "INVALID_ARGUMENT"));
  if (usage) {
    process.stderr.write(
      scrub(`spool: error: ${describeError(error)}\n(see --help for usage and examples)\n`),
    );
    return EXIT_USAGE;
  }
  if (error instanceof InterruptedError) {
    process.stderr.write(scrub(`spool: ${error.message}\n`));
    return error.exitCode;
  }
  const known = error instanceof CliError || (error instanceof Error && error.name === "SpoolError");
  const detail = known || !(error instanceof Error) ? describeError(error) : (error.stack ?? error.message);
  process.stderr.write(scrub(`spool: ${detail}\n`));
  return EXIT_FAILURE;
}

/** Exits once stdout has flushed, so piped output is never cut short by process.exit. */
function exitAfterFlush(status: number): void {
  process.stdout.write("", () => process.exit(status));
}

async function main(): Promise<void> {
  // Every password on the command line, in any form, is hidden from everything printed (not
  // node's and the script's paths: a Windows path such as C:\...\@scope reads like u:pw@host).
  for (const arg of process.argv.slice(2)) rememberSecrets(arg);
  let finished = false;
  // The loop ran empty with the command still awaiting: Node would exit 13 and say nothing.
  process.on("beforeExit", () => {
    if (finished) return;
    process.stderr.write(
      scrub(
        `spool: stopped while ${currentWait()}: nothing left could make it finish (a top-level await or a promise that never settles)\n`,
      ),
    );
    process.exit(EXIT_FAILURE);
  });
  // `spool export … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    throw error;
  });
  let status = EXIT_OK;
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    status = report(error);
  }
  finished = true;
  // A command that set its own status (work after a forced stop) keeps it.
  exitAfterFlush(status === EXIT_OK ? Number(process.exitCode ?? EXIT_OK) : status);
}

await main();
