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
  options: SubjectOptions;
}

/** What a child prints after RESULT: its figure and peak RSS, or why it has none. */
export type ChildResult = { figure: Outcome; rssMB: number } | { error: string };

export interface Workload {
  title: string;
  run: (subject: Subject, budgetMs: number, spec: ChildSpec) => Promise<Outcome>;
}

/** What one workload asks of a subject, and the time budget it measures within. */
export const WORKLOADS: Record<string, Workload> = {
  add1: { title: "add one at a time (10k)", run: (s, b) => w.addSingle(s, 10_000, b) },
  batch: { title: "add in batches of 1,000 (100k)", run: (s, b) => w.addBatches(s, 100_000, 1000, b) },
  drain1: { title: "drain 20k, concurrency 1", run: (s, b) => w.drain(s, 20_000, 1, b) },
  drain16: { title: "drain 20k, concurrency 16", run: (s, b) => w.drain(s, 20_000, 16, b) },
  take1k: { title: "reserve+complete 1,000 from 1k deep", run: (s, b) => w.takeFromDepth(s, 1_000, 1000, b) },
  take10k: {
    title: "reserve+complete 1,000 from 10k deep",
    run: (s, b) => w.takeFromDepth(s, 10_000, 1000, b),
  },
  take100k: {
    title: "reserve+complete 1,000 from 100k deep",
    run: (s, b) => w.takeFromDepth(s, 100_000, 1000, b),
  },
  // 200 jobs 5 ms apart take over a second by themselves: the latency budget starts from that.
  lat: { title: "idle worker add → start, same process", run: (s, b) => w.idleLatency(s, 200, 5, b + 3000) },
  latx: {
    title: "idle worker add → start, other process",
    run: (s, b, spec) => w.idleLatency(s, 200, 5, b + 3000, producerFor(spec)),
  },
  mb: { title: "200 jobs of 1 MB, add then drain", run: (s, b) => w.bigPayloads(s, 200, 1_000_000, b) },
};

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
  const workload = WORKLOADS[spec.workload];
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
