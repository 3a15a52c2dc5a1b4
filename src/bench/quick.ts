/*
 * `npm run bench` and `spool bench`: Spool side by side with raw SQLite doing the same SQL work
 * at the same durability, at `normal` and `full`, each ratio checked against its target, once
 * per SQLite driver this runtime can load (better-sqlite3, node:sqlite; under Bun, `bun
 * dist/bench/quick.js`, node:sqlite and bun:sqlite), Spool and raw on the same driver. Runs in
 * one process on temp databases, under a minute a driver; the peer comparison lives in bench/
 * at the repository root.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type DriverName, driverStatus } from "../backends/sqlite/driver.js";
import type { ChannelWorkload } from "./channel.js";
import { rawChannel, spoolChannel } from "./channel.js";
import type { MachineInfo } from "./machine.js";
import { describeMachine, machineInfo } from "./machine.js";
import { formatNumber, median } from "./stats.js";
import type { BenchDurability, Subject, SubjectOptions } from "./subject.js";
import { openSubject } from "./subjects.js";
import { renderTable } from "./table.js";
import type { Figure, Outcome } from "./workloads.js";
import { addBatches, addSingle, drain, idleLatency, takeFromDepth, takeFromGroups } from "./workloads.js";

export interface QuickOptions {
  /** Print one JSON document instead of the table. */
  json?: boolean;
  /**
   * Where lines go (@default console.log); a string is taken as a file path that receives the
   * JSON result as well, while the table still goes to the console.
   */
  out?: ((line: string) => void) | string;
}

export type Side = Figure | { na: string } | { error: string };

export interface QuickRow {
  /** The SQLite driver both sides ran on. */
  driver: DriverName;
  durability: BenchDurability;
  workload: string;
  spool: Side;
  raw: Side;
  /** Spool's rate over raw's (throughput rows), or null. */
  ratio: number | null;
  target: string;
  /** null when the row has no target or a side failed to measure. */
  pass: boolean | null;
}

export interface Result {
  machine: MachineInfo;
  /** How the quick run was shortened, in words. */
  note: string;
  rows: QuickRow[];
  passed: number;
  missed: number;
  /** Drivers this Node could not load, with why: they have no rows. */
  unavailable: Array<{ driver: DriverName; reason: string }>;
}

// Each measurement stops after this long and reports the rate over what it finished; the whole
// run skips what is left past DEADLINE_MS, so `npm run bench` stays under a minute even on a
// slow machine. One run per figure: the peer comparison (bench/) takes medians of three.
const BUDGET_MS = 1_000;
const RUNS = 1;
const DEPTH_RUNS = 3;
const DEADLINE_MS = 55_000;

/** Counts per durability: `full` pays an fsync per commit, so its per-commit workloads are smaller. */
function counts(d: BenchDurability) {
  const full = d === "full";
  return {
    single: full ? 2_000 : 10_000,
    batchTotal: 100_000,
    take: full ? 300 : 1_000,
    drain: full ? 4_000 : 20_000,
    latency: full ? 60 : 100,
    recv: full ? 2_000 : 5_000,
    // Receives of 100 are ~20× faster than single ones: this many still measure ~0.1 s.
    recvBatch: full ? 10_000 : 20_000,
  };
}

type Measure = (subject: Subject, options: SubjectOptions) => Promise<Outcome>;

const producerScript = fileURLToPath(new URL("./producer.js", import.meta.url));
const subjectsModule = fileURLToPath(new URL("./subjects.js", import.meta.url));

function isFigure(side: Side): side is Figure {
  return "value" in side;
}

/** A measurement on a subject opened on `path`, closed after. */
function onSubject(
  name: string,
  durability: BenchDurability,
  measure: Measure,
): (path: string) => Promise<Outcome> {
  return async (path) => {
    const options: SubjectOptions = { durability, path, name: "bench" };
    const subject = await openSubject(name, options);
    try {
      return await measure(subject, options);
    } finally {
      await subject.close();
    }
  };
}

/** Runs `measure` on a fresh temp database `runs` times and keeps the median. */
async function measureSide(
  dir: string,
  label: string,
  runs: number,
  measure: (path: string) => Promise<Outcome>,
): Promise<Side> {
  const figures: Figure[] = [];
  for (let r = 0; r < runs; r++) {
    const path = join(dir, `${label}-${Math.random().toString(36).slice(2)}.db`);
    try {
      const outcome = await measure(path);
      if ("na" in outcome) return outcome;
      figures.push(outcome);
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    }
  }
  const mid: Figure = { ...figures[0]!, value: median(figures.map((f) => f.value)) };
  const p99s = figures.map((f) => f.p99).filter((v): v is number => v !== undefined);
  if (p99s.length > 0) mid.p99 = median(p99s);
  return mid;
}

function spawnProducer(options: SubjectOptions, subject: string) {
  return (n: number, gapMs: number) =>
    spawn(
      process.execPath,
      [producerScript, JSON.stringify({ module: subjectsModule, subject, options, n, gapMs })],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
}

function show(side: Side): string {
  if ("na" in side) return "n/a";
  if ("error" in side) return "error";
  const partial = side.note ? "*" : "";
  if (side.unit === "ms")
    return `${formatNumber(side.value)} / ${formatNumber(side.p99 ?? Number.NaN)} ms${partial}`;
  return `${formatNumber(side.value)}/s${partial}`;
}

/** Two decimals, or three where two would round a miss up to its threshold (0.697 → "0.70"). */
function ratioText(ratio: number, pass: boolean | null): string {
  const two = ratio.toFixed(2);
  return pass === false && [0.7, 2, 5].includes(Number(two)) ? `${ratio.toFixed(3)}×` : `${two}×`;
}

export async function runQuickBench(options: QuickOptions = {}): Promise<Result> {
  const out = typeof options.out === "function" ? options.out : (line: string) => console.log(line);
  const jsonFile = typeof options.out === "string" ? options.out : null;
  const began = performance.now();
  const skipped: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "spool-bench-"));
  const machine = machineInfo();
  const rows: QuickRow[] = [];
  const progress = (text: string): void => {
    if (!options.json) process.stderr.write(`\r\x1b[K${text}`);
  };
  const status = driverStatus();
  const drivers = status.filter((d) => d.reason === null).map((d) => d.driver);
  const unavailable = status.flatMap((d) =>
    d.reason === null ? [] : [{ driver: d.driver, reason: d.reason }],
  );
  // Spool picks its driver from this variable when the option is not given, and so do the
  // producer processes this run spawns; raw reads it too (raw.ts). Put back after the run.
  const envBefore = process.env.SPOOL_SQLITE_DRIVER;
  try {
    for (const driver of drivers) {
      process.env.SPOOL_SQLITE_DRIVER = driver;
      const driverBegan = performance.now();
      for (const durability of ["normal", "full"] as const) {
        const c = counts(durability);
        const late = (label: string): boolean => {
          if (performance.now() - driverBegan < DEADLINE_MS) return false;
          skipped.push(`${driver} ${durability} ${label}`);
          return true;
        };
        const pair = async (
          workload: string,
          runs: number,
          spoolMeasure: Measure,
          rawMeasure: Measure = spoolMeasure,
        ): Promise<[Side, Side]> => {
          if (late(workload)) return [{ na: "skipped: out of time" }, { na: "skipped: out of time" }];
          progress(`${durability}: ${workload}`);
          const spool = await measureSide(dir, "spool", runs, onSubject("spool", durability, spoolMeasure));
          const raw = await measureSide(dir, "raw", runs, onSubject("raw", durability, rawMeasure));
          return [spool, raw];
        };
        const row = (
          workload: string,
          spool: Side,
          raw: Side,
          target = "≥ 0.7× raw",
          minRatio = 0.7,
        ): void => {
          const ratio = isFigure(spool) && isFigure(raw) ? spool.value / raw.value : null;
          const pass = ratio === null ? null : ratio >= minRatio;
          rows.push({ driver, durability, workload, spool, raw, ratio, target, pass });
        };

        const [addS, addR] = await pair(
          `add, one per call (${c.single.toLocaleString("en-US")})`,
          RUNS,
          (s) => addSingle(s, c.single, BUDGET_MS),
        );
        row(`add, one per call (${c.single.toLocaleString("en-US")})`, addS, addR);
        const [batchS, batchR] = await pair("addBatch of 1,000 (100k)", RUNS, (s) =>
          addBatches(s, c.batchTotal, 1000, BUDGET_MS),
        );
        row("addBatch of 1,000 (100k)", batchS, batchR);

        const depths: Array<[number, Side, Side]> = [];
        for (const depth of [1_000, 10_000, 100_000]) {
          const label = `reserve+complete ${c.take} at ${depth / 1000}k pending`;
          // The reserve-cost target compares two of these rows, so each is a median of three.
          const measure: Measure = (subject) => takeFromDepth(subject, depth, c.take, BUDGET_MS);
          const [s, r] = await pair(label, DEPTH_RUNS, measure);
          row(label, s, r);
          depths.push([depth, s, r]);
          // The plain raw table carries none of what a reserve must leave behind (a lease a
          // crashed worker's job comes back by, a finish time retention deletes by): against
          // the same loop on a table that does (raw.ts, GUARANTEES), the limit Spool can reach.
          const guardedLabel = `${label}, vs raw with Spool's guarantees`;
          if (!late(guardedLabel) && isFigure(s)) {
            progress(`${durability}: ${guardedLabel}`);
            const g = await measureSide(
              dir,
              "raw-guarded",
              DEPTH_RUNS,
              onSubject("raw-guarded", durability, measure),
            );
            row(guardedLabel, s, g, "≥ 0.8× raw+g", 0.8);
          }
        }
        // The same reserve on a queue of 1,000 groups (the round-robin claim) against the plain
        // one at the same depth: cost is 1/rate, so the cost ratio is plain rate / grouped rate.
        const groupedLabel = `reserve+complete ${c.take} at 100k pending in 1,000 groups`;
        const plain = depths[2]?.[1];
        if (!late(groupedLabel) && plain && isFigure(plain)) {
          progress(`${durability}: ${groupedLabel}`);
          // Warm up first, as the workloads before have warmed the plain claim: the first grouped
          // claims of a process compile the round-robin's code, and measured up to 1.6× slower.
          await measureSide(dir, "spool-groups-warm-up", 1, (path) =>
            takeFromGroups(path, durability, 2_000, 20, 200, BUDGET_MS),
          );
          const g = await measureSide(dir, "spool-groups", DEPTH_RUNS, (path) =>
            takeFromGroups(path, durability, 100_000, 1_000, c.take, BUDGET_MS),
          );
          const cost = isFigure(g) ? plain.value / g.value : null;
          rows.push({
            driver,
            durability,
            workload: `${groupedLabel} (cost vs plain at 100k)`,
            spool: g,
            raw: { na: "" },
            ratio: cost,
            target: "≤ 1.5× plain",
            pass: cost === null ? null : cost <= 1.5,
          });
        }
        const shallow = depths[0]?.[1];
        const deep = depths[2]?.[1];
        if (shallow && deep && isFigure(shallow) && isFigure(deep)) {
          // Cost per reserve is 1/rate, so the cost ratio deep/shallow is shallow rate / deep rate.
          const growth = shallow.value / deep.value;
          rows.push({
            driver,
            durability,
            workload: "reserve cost at 100k vs 1k pending",
            spool: { value: growth, unit: "jobs/s", done: 1, of: 1 },
            raw: { na: "" },
            ratio: growth,
            target: "≤ 1.3×",
            pass: growth <= 1.3,
          });
        }

        const [rawLoop] = await pair(`drain ${c.drain / 1000}k: raw per-job loop`, 1, (s) =>
          drain(s, c.drain, 1, BUDGET_MS),
        ).then(([, r]) => [r]);
        for (const concurrency of [1, 16]) {
          const label = `drain ${c.drain / 1000}k, worker concurrency ${concurrency}`;
          if (late(label)) continue;
          progress(`${durability}: ${label}`);
          const s = await measureSide(
            dir,
            "spool",
            1,
            onSubject("spool", durability, (subject) => drain(subject, c.drain, concurrency, BUDGET_MS)),
          );
          if (concurrency === 16) {
            const min = durability === "full" ? 5 : 2;
            row(label, s, rawLoop ?? { error: "not run" }, `≥ ${min}× raw loop`, min);
          } else {
            row(label, s, rawLoop ?? { error: "not run" });
          }
        }

        // The targets: p50 ≤ 0.3 ms in the same process, ≤ 3 ms from another. At `full`
        // an add cannot start before its commit's fsync, which no library avoids: there the
        // allowance counts from raw's own same-process p50 (that fsync, about 1 ms on this VM).
        let fsyncFloor = 0;
        for (const cross of [false, true]) {
          const label = `idle worker add→start p50/p99${cross ? ", other process" : ""}`;
          const allowance = cross ? 3 : 0.3;
          const measure =
            (name: string): Measure =>
            (subject, opts) =>
              idleLatency(subject, c.latency, 5, BUDGET_MS, cross ? spawnProducer(opts, name) : undefined);
          const [s, r] = await pair(label, 1, measure("spool"), measure("raw"));
          if (durability === "full" && !cross) fsyncFloor = isFigure(r) ? r.value : Number.NaN;
          const limit = allowance + fsyncFloor;
          const pass = isFigure(s) && !Number.isNaN(limit) ? s.value <= limit : null;
          rows.push({
            driver,
            durability,
            workload: label,
            spool: s,
            raw: r,
            ratio: null,
            target: durability === "full" ? `p50 ≤ raw + ${allowance} ms` : `p50 ≤ ${allowance} ms`,
            pass,
          });
        }

        const channelRows: Array<[string, ChannelWorkload]> = [
          [`channel send, one per call (${c.single.toLocaleString("en-US")})`, { kind: "send", n: c.single }],
          ["channel sendBatch of 1,000 (100k)", { kind: "sendBatch", total: c.batchTotal, size: 1000 }],
          [`channel recv, one per call (${c.recv.toLocaleString("en-US")})`, { kind: "recv", n: c.recv }],
          [
            `channel recvBatch(100) (${c.recvBatch.toLocaleString("en-US")})`,
            { kind: "recvBatch", n: c.recvBatch, size: 100 },
          ],
        ];
        if (durability === "full") {
          channelRows.push([
            "50 concurrent senders (2,000 sends)",
            { kind: "senders", senders: 50, each: 40 },
          ]);
        }
        for (const [label, w] of channelRows) {
          if (late(label)) continue;
          progress(`${durability}: ${label}`);
          if (w.kind === "recvBatch") {
            // Warm up both sides first: no workload before runs a receive of many, and its first
            // batches of a process compile that code (measured: the first 5,000 at 0.45–0.49×
            // raw, the next runs 0.7–1.0×), which a figure of a few tens of ms is mostly made of.
            const warmUp: ChannelWorkload = { kind: "recvBatch", n: 2_000, size: 100 };
            await measureSide(dir, "spool-warm-up", 1, (path) =>
              spoolChannel(path, durability, warmUp, BUDGET_MS),
            );
            await measureSide(dir, "raw-warm-up", 1, (path) =>
              rawChannel(path, durability, warmUp, BUDGET_MS),
            );
          }
          const s = await measureSide(dir, "spool", RUNS, (path) =>
            spoolChannel(path, durability, w, BUDGET_MS),
          );
          const r = await measureSide(dir, "raw", RUNS, (path) => rawChannel(path, durability, w, BUDGET_MS));
          row(label, s, r);
        }
      }
    }
  } finally {
    if (envBefore === undefined) delete process.env.SPOOL_SQLITE_DRIVER;
    else process.env.SPOOL_SQLITE_DRIVER = envBefore;
    progress("");
    rmSync(dir, { recursive: true, force: true });
  }

  const passed = rows.filter((r) => r.pass === true).length;
  const missed = rows.filter((r) => r.pass === false).length;
  const note =
    `quick mode: ${RUNS} run per figure (reserve at depth: median of ${DEPTH_RUNS}); each measurement stops after ${BUDGET_MS / 1000} s and reports the ` +
    "rate over what it finished (* marks such a partial figure); `full` uses smaller counts; " +
    "`npm run bench:peers` takes medians of 3 full-size runs";
  const result: Result = { machine, note, rows, passed, missed, unavailable };
  if (jsonFile !== null) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  if (options.json) {
    out(JSON.stringify(result, null, 2));
    return result;
  }
  out(`Spool vs raw SQLite on the same driver, same SQL work, same durability — ${describeMachine(machine)}`);
  out(`(${note})`);
  out("");
  out(
    renderTable(
      ["driver", "durability", "workload", "Spool", "raw", "Spool/raw", "target", ""],
      rows.map((r) => [
        r.driver,
        r.durability,
        r.workload,
        r.workload.startsWith("reserve cost") ? `${formatNumber(r.ratio ?? Number.NaN)}×` : show(r.spool),
        r.workload.startsWith("reserve cost") ? "" : show(r.raw),
        r.ratio === null || r.workload.startsWith("reserve cost") ? "" : ratioText(r.ratio, r.pass),
        r.target,
        r.pass === null ? "" : r.pass ? "pass" : "MISS",
      ]),
      3,
    ),
  );
  const errors = rows.flatMap((r) =>
    (["spool", "raw"] as const).flatMap((k) => {
      const side = r[k];
      return "error" in side ? [`${r.driver} ${r.durability} ${r.workload} (${k}): ${side.error}`] : [];
    }),
  );
  if (errors.length > 0) out(`\nerrors:\n  ${errors.join("\n  ")}`);
  for (const u of unavailable) out(`\nnot measured: ${u.driver}: ${u.reason}`);
  if (skipped.length > 0) out(`\nskipped (past ${DEADLINE_MS / 1000} s a driver): ${skipped.join("; ")}`);
  out(`\n${passed} targets met, ${missed} missed (${((performance.now() - began) / 1000).toFixed(0)} s).`);
  return result;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const json = process.argv.includes("--json");
  runQuickBench({ json }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
