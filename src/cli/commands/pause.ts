/* `spool pause` and `spool resume`: stop or restart claiming from a queue, for every process. */
import type { Command } from "commander";
import { printJson } from "../format.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";

interface PauseFlags {
  json?: boolean;
  schema?: string;
}

function register(program: Command, paused: boolean): void {
  const name = paused ? "pause" : "resume";
  const command = program
    .command(name)
    .description(
      paused
        ? "pause a queue: workers in every process stop claiming its jobs (running ones finish)"
        : "resume a paused queue: idle workers in every process start claiming again at once",
    )
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .option("--json", `print {"queue": name, "paused": ${paused}}`);
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool ${name} jobs.db emails
  $ spool ${name} postgres://app@db/prod emails --json`,
    )
    .action(async (db: string, queueName: string, flags: PauseFlags) => {
      queueArg(queueName);
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        const queue = spool.queue(queueName);
        await (paused ? queue.pause() : queue.resume());
      });
      if (flags.json) printJson({ queue: queueName, paused });
      else process.stdout.write(`${paused ? "paused" : "resumed"} ${queueName}\n`);
    });
}

export function registerPause(program: Command): void {
  register(program, true);
  register(program, false);
}
