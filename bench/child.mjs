// Runs one workload on one subject in a process of its own (so its peak RSS is its own), and
// prints one line: RESULT followed by JSON. run.mjs kills it if it overstays its time.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DIST, fromDist } from "./dist.mjs";
import { openSubject } from "./peers/index.mjs";

const w = await fromDist("bench/workloads.js");

/** What one workload asks of a subject, and the time budget it measures within. */
export const WORKLOADS = {
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

const producerScript = join(DIST, "bench", "producer.js");
const peersModule = fileURLToPath(new URL("./peers/index.mjs", import.meta.url));

function producerFor(spec) {
  return (n, gapMs) =>
    spawn(
      process.execPath,
      [
        producerScript,
        JSON.stringify({ module: peersModule, subject: spec.peer, options: spec.options, n, gapMs }),
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
}

async function main() {
  const spec = JSON.parse(process.argv[2] ?? "{}");
  const workload = WORKLOADS[spec.workload];
  if (!workload) throw new Error(`unknown workload ${spec.workload}`);
  const subject = await openSubject(spec.peer, spec.options);
  const figure = await workload.run(subject, spec.budgetMs, spec);
  await subject.close();
  const rssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`RESULT ${JSON.stringify({ figure, rssMB })}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stdout.write(
        `RESULT ${JSON.stringify({ error: String(error?.message ?? error).slice(0, 300) })}\n`,
      );
      process.exit(1);
    },
  );
}
