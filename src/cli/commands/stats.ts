/*
 * `spool stats`: queues × states, whether each is paused, its stored limits, and how long the
 * oldest ready job has waited.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import type { QueueLimits } from "../../backend.js";
import type { Spool } from "../../index.js";
import { describeLimits } from "../../limits-text.js";
import type { QueueSize } from "../../types.js";
import { UsageError } from "../errors.js";
import { formatDuration, printJson, renderTable } from "../format.js";
import { parseDuration } from "../parse.js";
import { showTarget, withSchemaOption, withSpool } from "../target.js";
import { safeJson } from "../terminal.js";

interface StatsFlags {
  json?: boolean;
  watch?: boolean;
  interval: number;
  schema?: string;
}

export interface QueueStats extends QueueSize {
  queue: string;
  /** ms the oldest ready job has waited; null when none is ready. */
  oldestPendingMs: number | null;
  /** The queue's stored limits, when it has any (rate limit, concurrency, group concurrency). */
  limits?: QueueLimits;
}

/** The count columns: `waiting` (jobs whose dependencies are not all completed) first, as in JOB_STATES. */
const STATES = ["waiting", "pending", "delayed", "reserved", "completed", "dead", "total"] as const;

/** Counts of every queue holding jobs, in name order. */
export async function collectStats(spool: Spool): Promise<QueueStats[]> {
  const names = [...(await spool.queues())].sort();
  const rows: QueueStats[] = [];
  // Read straight from the store, as the dashboard's overview does, not through spool.queue():
  // a handle would validate the name, and one name that today's rules refuse (written by an
  // older version or by hand) would fail the whole command; it is shown instead, escaped by
  // the table and the JSON writer like any text from the store. Nor does looking register a
  // queue (no handle, no retention of its own) with the Spool.
  spool.ctx.assertOpen();
  const backend = spool.ctx.backend;
  for (const name of names) {
    const size = await backend.counts(name);
    const row: QueueStats = { queue: name, ...size, oldestPendingMs: await backend.oldestPendingAge(name) };
    const limits = (await backend.readSettings(name))?.limits;
    if (limits !== undefined && describeLimits(limits) !== "") row.limits = limits;
    rows.push(row);
  }
  return rows;
}

/**
 * The human table; a total row is added when there is more than one queue, a PAUSED column
 * when any queue is paused, and a LIMITS column when any queue has limits.
 */
export function statsTable(rows: readonly QueueStats[]): string {
  if (rows.length === 0) return "no jobs yet (no queue holds any job)";
  const anyPaused = rows.some((r) => r.paused);
  const anyLimits = rows.some((r) => r.limits !== undefined);
  const cells = rows.map((r) => [
    r.queue,
    ...STATES.map((s) => String(r[s])),
    r.oldestPendingMs === null ? "-" : formatDuration(r.oldestPendingMs),
    ...(anyPaused ? [r.paused ? "paused" : ""] : []),
    ...(anyLimits ? [r.limits === undefined ? "" : describeLimits(r.limits)] : []),
  ]);
  if (rows.length > 1) {
    const oldest = Math.max(...rows.map((r) => r.oldestPendingMs ?? -1));
    cells.push([
      "(all)",
      ...STATES.map((s) => String(rows.reduce((sum, r) => sum + r[s], 0))),
      oldest < 0 ? "-" : formatDuration(oldest),
      ...(anyPaused ? [""] : []),
      ...(anyLimits ? [""] : []),
    ]);
  }
  const columns = [
    { header: "QUEUE" },
    ...STATES.map((s) => ({ header: s.toUpperCase(), align: "right" as const })),
    { header: "OLDEST PENDING", align: "right" as const },
    ...(anyPaused ? [{ header: "PAUSED" }] : []),
    ...(anyLimits ? [{ header: "LIMITS" }] : []),
  ];
  return renderTable(columns, cells);
}

/** The --json document: queues keyed by name, so `jq .queues.emails.dead` reads naturally. */
export function statsJson(rows: readonly QueueStats[]): {
  queues: Record<string, Omit<QueueStats, "queue">>;
} {
  const queues: Record<string, Omit<QueueStats, "queue">> = {};
  for (const { queue, ...rest } of rows) queues[queue] = rest;
  return { queues };
}

async function watch(spool: Spool, db: string, flags: StatsFlags): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const tty = process.stdout.isTTY && !flags.json;
  let first = true;
  try {
    while (!stop.signal.aborted) {
      const rows = await collectStats(spool);
      if (flags.json) {
        // A stored queue name is data: escaped like every JSON output (C1, U+2028, bidi controls).
        process.stdout.write(
          `${safeJson(JSON.stringify({ at: new Date().toISOString(), ...statsJson(rows) }))}\n`,
        );
      } else {
        const title = `spool stats ${showTarget(db)}  ${new Date().toLocaleTimeString()}  (every ${formatDuration(flags.interval)}, Ctrl-C to quit)`;
        // Redraw in place: home, each line cleared to its end, then the rest of the screen, so a
        // shorter frame leaves nothing behind and nothing flickers. The first frame clears all.
        const frame = `${title}\n\n${statsTable(rows)}`;
        if (!tty) process.stdout.write(`${frame}\n\n`);
        else {
          const lines = frame.split("\n").map((line) => `${line}\x1b[K`);
          process.stdout.write(`${first ? "\x1b[2J" : ""}\x1b[H${lines.join("\n")}\n\x1b[J`);
        }
        first = false;
      }
      await sleep(flags.interval, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function registerStats(program: Command): void {
  const command = program
    .command("stats")
    .description("a table of queues × states, with the age of the oldest pending job")
    .argument("<db>", "SQLite file or postgres:// URL")
    .option(
      "--json",
      "print JSON: {queues: {<name>: {waiting, pending, delayed, …, total, paused, oldestPendingMs, limits?}}}",
    )
    .option("-w, --watch", "refresh in place until Ctrl-C")
    .option("--interval <duration>", "refresh period with --watch", parseDuration, 1000);
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool stats jobs.db
  $ spool stats jobs.db --watch --interval 2s
  $ spool stats jobs.db --json | jq '.queues.emails.dead'`,
    )
    .action(async (db: string, flags: StatsFlags) => {
      if (flags.interval < 100)
        throw new UsageError("--interval must be at least 100ms, e.g. --interval 2s.");
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        if (flags.watch) return watch(spool, db, flags);
        const rows = await collectStats(spool);
        if (flags.json) printJson(statsJson(rows));
        else process.stdout.write(`${statsTable(rows)}\n`);
      });
    });
}
