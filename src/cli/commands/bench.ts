/* `spool bench`: the quick Spool-vs-raw benchmark (src/bench/quick.ts), printed as a table. */
import type { Command } from "commander";
import { loadOptional } from "../optional.js";

type RunQuickBench = (options: { json?: boolean; out?: string }) => Promise<unknown>;

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description(
      "run the built-in quick benchmark (Spool against raw SQLite, on each driver that loads) and print its table",
    )
    .option("--json", "print the results as JSON")
    .option("--out <file>", "also write the results to this file")
    .addHelpText(
      "after",
      `
Examples:
  $ spool bench
  $ spool bench --json > bench.json`,
    )
    .action(async (flags: { json?: boolean; out?: string }) => {
      const runQuickBench = await loadOptional<RunQuickBench>(
        "../bench/quick.js",
        "runQuickBench",
        "the benchmark",
      );
      const options: { json?: boolean; out?: string } = {};
      if (flags.json) options.json = true;
      if (flags.out !== undefined) options.out = flags.out;
      const result = await runQuickBench(options);
      // The benchmark prints its own table; a returned string is printed for it.
      if (typeof result === "string") process.stdout.write(result.endsWith("\n") ? result : `${result}\n`);
    });
}
