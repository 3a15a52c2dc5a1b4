/* `spool retry`: dead jobs back to pending, by id or all of them. */
import { type Command, InvalidArgumentError } from "commander";
import { UsageError } from "../errors.js";
import { printJson } from "../format.js";
import { parsePositiveInt } from "../parse.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";

interface RetryFlags {
  all?: boolean;
  json?: boolean;
  schema?: string;
}

function parseIds(texts: string[]): number[] {
  return texts.map((text) => {
    try {
      return parsePositiveInt(text);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new UsageError(`job id ${error.message}`);
      throw error;
    }
  });
}

export function registerRetry(program: Command): void {
  const command = program
    .command("retry")
    .description("move dead jobs back to pending (attempts start over)")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .argument("[ids...]", "ids of the dead jobs to retry")
    .option("--all", "retry every dead job of the queue")
    .option("--json", 'print {"retried": n}');
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool retry jobs.db emails 41 42
  $ spool retry jobs.db emails --all`,
    )
    .action(async (db: string, queueName: string, idTexts: string[], flags: RetryFlags) => {
      queueArg(queueName);
      if (flags.all && idTexts.length > 0) throw new UsageError("give job ids or --all, not both.");
      if (!flags.all && idTexts.length === 0) {
        throw new UsageError("say which dead jobs to retry: job ids (spool retry db queue 41 42) or --all.");
      }
      const ids = flags.all ? undefined : parseIds(idTexts);
      const retried = await withSpool(db, { create: false, schema: flags.schema }, (spool) =>
        spool.queue(queueName).retry(ids),
      );
      if (flags.json) printJson({ retried });
      else {
        const missed = ids ? ids.length - retried : 0;
        const note = missed > 0 ? ` (${missed} of the ids given were not dead jobs of ${queueName})` : "";
        process.stdout.write(`retried ${retried} job${retried === 1 ? "" : "s"}${note}\n`);
      }
    });
}
