/* `spool purge`: deletes completed or dead jobs, optionally only old ones. */
import { type Command, Option } from "commander";
import { formatDuration, printJson } from "../format.js";
import { parseDuration } from "../parse.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";

interface PurgeFlags {
  state: "completed" | "dead";
  olderThan?: number;
  json?: boolean;
  schema?: string;
}

export function registerPurge(program: Command): void {
  const command = program
    .command("purge")
    .description("delete finished jobs of a queue: completed or dead")
    .argument("<db>", "SQLite file or postgres:// URL")
    .argument("<queue>", "queue name")
    .addOption(
      new Option("--state <state>", "which finished jobs")
        .choices(["completed", "dead"])
        .makeOptionMandatory(),
    )
    .option("--older-than <duration>", "only jobs finished longer ago than this: 30m, 1h, 7d", parseDuration)
    .option("--json", 'print {"purged": n}');
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool purge jobs.db emails --state completed
  $ spool purge jobs.db emails --state dead --older-than 7d`,
    )
    .action(async (db: string, queueName: string, flags: PurgeFlags) => {
      queueArg(queueName);
      const purged = await withSpool(db, { create: false, schema: flags.schema }, (spool) =>
        spool
          .queue(queueName)
          .purge(
            flags.olderThan === undefined
              ? { state: flags.state }
              : { state: flags.state, olderThan: flags.olderThan },
          ),
      );
      if (flags.json) printJson({ purged });
      else {
        const age =
          flags.olderThan === undefined ? "" : ` finished more than ${formatDuration(flags.olderThan)} ago`;
        process.stdout.write(`purged ${purged} ${flags.state} job${purged === 1 ? "" : "s"}${age}\n`);
      }
    });
}
