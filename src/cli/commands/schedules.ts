/* `spool schedules`: the stored cron schedules, with their next and last fire. */
import type { Command } from "commander";
import type { ScheduleInfo } from "../../index.js";
import { printJson, renderTable } from "../format.js";
import { withSchemaOption, withSpool } from "../target.js";

interface SchedulesFlags {
  json?: boolean;
  schema?: string;
}

/** The human table: one row per schedule, by name; times in ISO UTC. */
export function schedulesTable(rows: readonly ScheduleInfo[]): string {
  if (rows.length === 0) return "no schedules";
  const cells = rows.map((s) => [
    s.name,
    s.cron,
    s.tz,
    s.queue,
    s.next.toISOString(),
    s.last === null ? "-" : s.last.toISOString(),
    s.catchUp,
  ]);
  const headers = ["NAME", "CRON", "TZ", "QUEUE", "NEXT", "LAST", "CATCH-UP"];
  return renderTable(
    headers.map((header) => ({ header })),
    cells,
  );
}

/** The --json document: the schedules in name order, times as ISO strings. */
export function schedulesJson(rows: readonly ScheduleInfo[]): { schedules: unknown[] } {
  return {
    schedules: rows.map((s) => ({
      ...s,
      payload: Buffer.isBuffer(s.payload) ? { bytes: s.payload.toString("base64") } : s.payload,
    })),
  };
}

export function registerSchedules(program: Command): void {
  const command = program
    .command("schedules")
    .description("the stored cron schedules: cron, zone, queue, next and last fire, catch-up")
    .argument("<db>", "SQLite file or postgres:// URL")
    .option("--json", "print JSON: {schedules: [{name, cron, queue, tz, catchUp, next, last, payload, …}]}");
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool schedules jobs.db
  $ spool schedules postgres://app@db/prod --json | jq '.schedules[].next'`,
    )
    .action(async (db: string, flags: SchedulesFlags) => {
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        const rows = await spool.schedules();
        if (flags.json) printJson(schedulesJson(rows));
        else process.stdout.write(`${schedulesTable(rows)}\n`);
      });
    });
}
