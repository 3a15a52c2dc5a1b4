/* `spool add`: one job from the argument, or one per NDJSON line of stdin (batched). */
import type { Command } from "commander";
import { queueDefaults, resolveAdd } from "../../add-options.js";
import type { AddOptions } from "../../types.js";
import { CliError, UsageError } from "../errors.js";
import { printJson } from "../format.js";
import { readLines } from "../lines.js";
import { parseDuration, parseInteger, parsePositiveInt } from "../parse.js";
import { queueArg, withSchemaOption, withSpool } from "../target.js";

interface AddFlags {
  priority?: number;
  delay?: number;
  key?: string;
  maxAttempts?: number;
  json?: boolean;
  schema?: string;
}

/** Lines per transaction when reading stdin: big enough to be fast, small enough to stream. */
const BATCH = 1000;

function parsePayload(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const hint = `e.g. '{"to":"ada@example.com"}' or '"a string"' (strings need their quotes)`;
    throw where === "argument"
      ? new UsageError(
          `the payload ${JSON.stringify(text.slice(0, 60))} is not JSON; give a JSON value, ${hint}.`,
        )
      : new CliError(
          `${where} is not JSON: ${JSON.stringify(text.slice(0, 60))}; each line must be one JSON value.`,
        );
  }
}

export function registerAdd(program: Command): void {
  const command = program
    .command("add")
    .description("add one job (payload from the argument), or one per NDJSON line of stdin; prints the id(s)")
    .argument("<db>", "SQLite file (created if missing) or postgres:// URL")
    .argument("<queue>", "queue name")
    .argument("[json]", "the payload as JSON; omitted: read NDJSON lines from stdin")
    .option("--priority <n>", "higher runs first (integer)", parseInteger)
    .option("--delay <duration>", "run no sooner than this from now: 500ms, 30s, 5m, 1h", parseDuration)
    .option("--key <key>", "dedupe key: no second job while one with this key is pending or reserved")
    .option("--max-attempts <n>", "attempts before the job is dead (default 3)", parsePositiveInt)
    .option("--json", 'print {"ids": [...]} instead of one id per line');
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool add jobs.db emails '{"to":"ada@example.com"}'
  $ spool add jobs.db reports '"monthly"' --priority 10 --delay 5m
  $ cat jobs.ndjson | spool add jobs.db emails`,
    )
    .action(async (db: string, queueName: string, json: string | undefined, flags: AddFlags) => {
      queueArg(queueName);
      const options: AddOptions = {};
      if (flags.priority !== undefined) options.priority = flags.priority;
      if (flags.delay !== undefined) options.delay = flags.delay;
      if (flags.key !== undefined) options.key = flags.key;
      if (flags.maxAttempts !== undefined) options.maxAttempts = flags.maxAttempts;
      // The library's own check of add options (the one queue.add makes), before opening: a value
      // it refuses (an empty or too long key, a delay past its range) is bad usage, and bad usage
      // creates no database. Its INVALID_ARGUMENT is reported as such (exit 2).
      resolveAdd(queueDefaults({}).defaults, options);
      if (json === undefined && process.stdin.isTTY) {
        throw new UsageError("give the payload as an argument (JSON), or pipe NDJSON lines into stdin.");
      }
      // Parse the argument before opening, so a typo never creates a database.
      const single = json === undefined ? undefined : parsePayload(json, "argument");
      const ids = await withSpool(db, { create: true, schema: flags.schema }, async (spool) => {
        const queue = spool.queue(queueName);
        if (json !== undefined) return [await queue.add(single, options)];
        const all: number[] = [];
        let batch: unknown[] = [];
        const flush = async () => {
          if (batch.length > 0) all.push(...(await queue.addBatch(batch, options)));
          batch = [];
        };
        for await (const { line, number } of readLines(process.stdin)) {
          if (line.trim() === "") continue;
          try {
            batch.push(parsePayload(line, `stdin line ${number}`));
          } catch (error) {
            // Lines before the bad one are kept (and reported), so a rerun can skip them.
            await flush();
            print(all, flags.json);
            throw new CliError(`${(error as Error).message} The ${all.length} jobs before it were added.`);
          }
          if (batch.length >= BATCH) await flush();
        }
        await flush();
        return all;
      });
      print(ids, flags.json);
    });
}

function print(ids: number[], json: boolean | undefined): void {
  if (json) printJson(ids.length === 1 ? { id: ids[0], ids } : { ids });
  else if (ids.length > 0) process.stdout.write(`${ids.join("\n")}\n`);
}
