// Runs one workload on one subject in a process of its own (so its peak RSS is its own), and
// prints one line: RESULT followed by JSON. run.ts kills it if it overstays its time.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Subject, SubjectOptions } from "../src/bench/subject.js";
import type { Outcome } from "../src/bench/workloads.js";
import * as w from "../src/bench/workloads.js";
import { openSubject } from "./peers/index.js";

/** What run.ts asks one child process to measure. */
export interface ChildSpec {
  peer: string;
  workload: string;
  budgetMs: number;
  /** Counts × this (1: full size; less for a smoke run). */
  scale: number;
  options: SubjectOptions;
}

/** What a child prints after RESULT: its figure and peak RSS, or why it has none. */
export type ChildResult = { figure: Outcome; rssMB: number } | { error: string };

export interface Workload {
  title: string;
  run: (subject: Subject, budgetMs: number, spec: ChildSpec) => Promise<Outcome>;
}

/** "10k", "1,000": a count as the titles print it. */
const count = (n: number): string =>
  n >= 10_000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString("en-US");

/**
 * What one workload asks of a subject, and the time budget it measures within. `scale` shrinks
 * every count (never below a floor that still measures something) for a smoke run, `--quick`;
 * the titles say the counts actually run.
 */
export function workloadsFor(scale = 1): Record<string, Workload> {
  const n = (full: number, floor: number): number => Math.max(floor, Math.round(full * scale));
  const adds = n(10_000, 100);
  const batched = n(100_000, 1000);
  const drained = n(20_000, 200);
  const takes = n(1000, 10);
  const [d1, d2, d3] = [n(1_000, 10), n(10_000, 100), n(100_000, 1000)];
  const waits = n(200, 20);
  const big = n(200, 5);
  return {
    add1: { title: `add one at a time (${count(adds)})`, run: (s, b) => w.addSingle(s, adds, b) },
    batch: {
      title: `add in batches of 1,000 (${count(batched)})`,
      run: (s, b) => w.addBatches(s, batched, 1000, b),
    },
    drain1: { title: `drain ${count(drained)}, concurrency 1`, run: (s, b) => w.drain(s, drained, 1, b) },
    drain16: { title: `drain ${count(drained)}, concurrency 16`, run: (s, b) => w.drain(s, drained, 16, b) },
    take1k: {
      title: `reserve+complete ${count(takes)} from ${count(d1)} deep`,
      run: (s, b) => w.takeFromDepth(s, d1, takes, b),
    },
    take10k: {
      title: `reserve+complete ${count(takes)} from ${count(d2)} deep`,
      run: (s, b) => w.takeFromDepth(s, d2, takes, b),
    },
    take100k: {
      title: `reserve+complete ${count(takes)} from ${count(d3)} deep`,
      run: (s, b) => w.takeFromDepth(s, d3, takes, b),
    },
    // 200 jobs 5 ms apart take over a second by themselves: the latency budget starts from that,
    // 3 s more at every size (pg-boss polls every 2 s: a smoke run's few jobs must see it start).
    lat: {
      title: "idle worker add → start, same process",
      run: (s, b) => w.idleLatency(s, waits, 5, b + 3000),
    },
    latx: {
      title: "idle worker add → start, other process",
      run: (s, b, spec) => w.idleLatency(s, waits, 5, b + 3000, producerFor(spec)),
    },
    // 200 MB takes the fastest subjects 4–5 s: in the common budget every figure was the
    // first few jobs of a partial run (warm-up and checkpoint timing, not the steady rate).
    mb: {
      title: `${count(big)} jobs of 1 MB, add then drain`,
      run: (s, b) => w.bigPayloads(s, big, 1_000_000, b * w.MB_BUDGET_FACTOR),
    },
  };
}

/** The workloads at full size, as `npm run bench:peers` runs them. */
export const WORKLOADS = workloadsFor(1);

// Compiled, this file and src/bench/producer.js keep the repository's layout under
// bench/.build/, so the producer is at the same relative place as in the source tree.
const producerScript = fileURLToPath(new URL("../src/bench/producer.js", import.meta.url));
const peersModule = fileURLToPath(new URL("./peers/index.js", import.meta.url));

function producerFor(spec: ChildSpec) {
  return (n: number, gapMs: number) =>
    spawn(
      process.execPath,
      [
        producerScript,
        JSON.stringify({ module: peersModule, subject: spec.peer, options: spec.options, n, gapMs }),
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
}

function report(result: ChildResult): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec;
  const workload = workloadsFor(spec.scale)[spec.workload];
  if (!workload) throw new Error(`unknown workload ${spec.workload}`);
  const subject = await openSubject(spec.peer, spec.options);
  const figure = await workload.run(subject, spec.budgetMs, spec);
  await subject.close();
  const rssMB = process.resourceUsage().maxRSS / 1024;
  report({ figure, rssMB });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      report({ error: String(error instanceof Error ? error.message : error).slice(0, 300) });
      process.exit(1);
    },
  );
}
