// The peer comparison: every subject × workload × run in a child process of its own, killed if
// it overstays; medians into bench/results/latest.json, tables and charts into docs/.
//
//   npm run bench:peers [-- --runs 3 --budget 1000 --peers spool,raw,… --workloads add1,…]
//   npm run bench:peers:24 [-- …]             (the same on Node 24 with the newest peers)
//   npm run bench:peers -- --report-only     (rewrites docs/benchmarks.md from the results)
//   npm run bench:peers -- --quick           (a smoke run: every count / 100, one run; its
//                                             results go to bench/results/*.quick.tmp and its
//                                             report to a temporary folder, not docs/)
//
// Which peers run is decided by the build this runs from (bench/peers/index.ts): bench/.build/,
// on Node 20, runs bench/'s and writes bench/results/latest.json; bench/node24/.build/, on Node
// 24, runs bench/node24/'s and writes bench/results/node24.json. The report shows both.
//
// `npm run bench:peers` installs the peers, type-checks and compiles bench/ (with the parts of
// src/ it imports) into bench/.build/ with tsc, then runs this file from there with plain node.
// Not through tsx: its loader thread added 25-40 MB to each child's peak RSS, which the report
// prints as the queue's own.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { machineInfo } from "../src/bench/machine.js";
import { median } from "../src/bench/stats.js";
import type { Figure, Outcome } from "../src/bench/workloads.js";
import type { ChildResult, ChildSpec } from "./child.js";
import type { Durability, MeasuredResult, PeerSet, ResultRow, ResultsDocument } from "./document.js";
import { BENCH, ROOT } from "./paths.js";
import { writeReport } from "./report.js";

/** Each peer set's results: the Node 20 file keeps its old name. */
const RESULTS: Record<PeerSet, string> = {
  node20: join(BENCH, "results", "latest.json"),
  node24: join(BENCH, "results", "node24.json"),
};
const childScript = fileURLToPath(new URL("./child.js", import.meta.url));

const { values: args } = parseArgs({
  options: {
    runs: { type: "string" },
    budget: { type: "string", default: "1000" },
    timeout: { type: "string", default: "60000" },
    peers: { type: "string" },
    workloads: { type: "string" },
    "report-only": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
});

// Durability is where `full` costs: per-commit work. Reserve-at-depth and 1 MB payloads are
// measured at `normal` only, which keeps the whole comparison under ten minutes on 2 cores.
const FULL_WORKLOADS = new Set(["add1", "batch", "drain1", "drain16", "lat", "latx"]);

/** A run that measured: its figure and the child's peak RSS. */
interface Sample extends Figure {
  rssMB: number;
}

interface Failure {
  status: "timeout" | "error";
  message: string;
}

type ChildOutcome = { status: "ok"; figure: Outcome; rssMB: number } | Failure;

/** One peer × durability × workload, filled run by run. */
interface Cell {
  peer: string;
  durability: Durability;
  workload: string;
  samples: Sample[];
  failures: Failure[];
  /** Why the peer cannot do this workload at all. */
  na?: string;
}

async function main(): Promise<void> {
  if (args["report-only"]) {
    writeReport(readResults(), ROOT);
    return;
  }
  // The peers load on use, so --report-only works without bench/node_modules.
  const { workloadsFor } = await import("./child.js");
  const { PEERS, PEER_SET } = await import("./peers/index.js");
  const { serverFacts } = await import("./servers.js");

  const scale = args.quick ? 0.01 : 1;
  const WORKLOADS = workloadsFor(scale);
  const runs = Number(args.runs ?? (args.quick ? 1 : 3));
  const budgetMs = Number(args.budget);
  const timeoutMs = Number(args.timeout);
  const wanted = args.peers ? args.peers.split(",") : Object.keys(PEERS);
  const workloads = args.workloads ? args.workloads.split(",") : Object.keys(WORKLOADS);
  const servers = await serverFacts();

  /** One line of the plan: a peer at a durability (SQLite) or at its server's settings. */
  const configs: Array<{ peer: string; durability: Durability }> = [];
  for (const id of wanted) {
    const peer = PEERS[id];
    if (!peer) throw new Error(`unknown peer ${id}; known: ${Object.keys(PEERS).join(", ")}`);
    if (peer.store === "sqlite") {
      configs.push({ peer: id, durability: "normal" }, { peer: id, durability: "full" });
    } else {
      configs.push({ peer: id, durability: "server" });
    }
  }

  const scratch = mkdtempSync(join(tmpdir(), "spool-peers-"));
  const cells = new Map<string, Cell>();
  const began = Date.now();
  let step = 0;
  const total = runs * configs.length * workloads.length;
  try {
    // Runs outermost: a burst of noise from elsewhere then spreads over all peers alike.
    for (let r = 0; r < runs; r++) {
      for (const config of configs) {
        for (const workload of workloads) {
          step++;
          const key = `${config.peer}|${config.durability}|${workload}`;
          const cell: Cell = cells.get(key) ?? { ...config, workload, samples: [], failures: [] };
          cells.set(key, cell);
          if (config.durability === "full" && !FULL_WORKLOADS.has(workload)) continue;
          const peer = PEERS[config.peer];
          if (!peer) continue;
          const facts = peer.store === "sqlite" ? null : servers[peer.store];
          const unreachable = facts && "unreachable" in facts ? facts.unreachable : null;
          if (unreachable) {
            cell.na = unreachable;
            continue;
          }
          if (cell.na || cell.failures.some((f) => f.status === "timeout")) continue;
          process.stderr.write(
            `\r\x1b[K[${step}/${total}, ${Math.round((Date.now() - began) / 1000)} s] run ${r + 1}: ${config.peer} ${config.durability} ${workload}`,
          );
          const name = `bench_${config.peer.replace(/\W/g, "_")}_${process.pid}_${step}`;
          const path = join(scratch, `${name}.db`);
          const spec: ChildSpec = {
            peer: config.peer,
            workload,
            budgetMs,
            scale,
            options: { durability: config.durability === "full" ? "full" : "normal", path, name },
          };
          const outcome = await runChild(spec, timeoutMs);
          for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
          if (outcome.status !== "ok") cell.failures.push(outcome);
          else if ("na" in outcome.figure) cell.na = outcome.figure.na;
          else cell.samples.push({ ...outcome.figure, rssMB: outcome.rssMB });
        }
      }
    }
  } finally {
    process.stderr.write("\r\x1b[K");
    rmSync(scratch, { recursive: true, force: true });
  }

  const results = [...cells.values()]
    .filter((c) => !(c.durability === "full" && !FULL_WORKLOADS.has(c.workload)))
    .map(summarize);
  const document: ResultsDocument = {
    machine: machineInfo(),
    settings: {
      runs,
      budgetMs,
      timeoutMs,
      fullWorkloads: [...FULL_WORKLOADS],
      ...(args.quick ? { scale } : {}),
    },
    elapsedSeconds: Math.round((Date.now() - began) / 1000),
    servers,
    peers: Object.fromEntries(
      wanted.flatMap((id) => {
        const peer = PEERS[id];
        return peer
          ? [[id, { label: peer.label, version: peer.version, store: peer.store, note: peer.note ?? "" }]]
          : [];
      }),
    ),
    workloads: Object.fromEntries(workloads.map((w) => [w, WORKLOADS[w]?.title ?? w])),
    results,
  };
  mkdirSync(join(BENCH, "results"), { recursive: true });
  const json = `${JSON.stringify(document, null, 2)}\n`;
  if (args.quick) {
    // A smoke run's figures are no measurement: kept out of the results and docs/.
    const file = RESULTS[PEER_SET].replace(/\.json$/, ".quick.tmp");
    writeFileSync(file, json);
    const dir = mkdtempSync(join(tmpdir(), "spool-peers-quick-"));
    console.log(writeReport({ [PEER_SET]: document }, dir));
    console.log(
      `\nquick run (${PEER_SET}) in ${document.elapsedSeconds} s: ${relative(ROOT, file)}, report in ${dir}`,
    );
    return;
  }
  writeFileSync(RESULTS[PEER_SET], json);
  const table = writeReport({ ...readResults(), [PEER_SET]: document }, ROOT);
  console.log(table);
  console.log(
    `\nwrote ${relative(ROOT, RESULTS[PEER_SET])} and docs/benchmarks.md in ${document.elapsedSeconds} s`,
  );
}

/** Every peer set's results that exist. */
function readResults(): Partial<Record<PeerSet, ResultsDocument>> {
  const out: Partial<Record<PeerSet, ResultsDocument>> = {};
  for (const set of Object.keys(RESULTS) as PeerSet[]) {
    if (existsSync(RESULTS[set]))
      out[set] = JSON.parse(readFileSync(RESULTS[set], "utf8")) as ResultsDocument;
  }
  return out;
}

/** The median of a cell's runs, or why it has none. */
function summarize(cell: Cell): ResultRow {
  const base = { peer: cell.peer, durability: cell.durability, workload: cell.workload };
  if (cell.na) return { ...base, status: "n/a", reason: cell.na };
  if (cell.samples.length === 0) {
    const failure: Failure = cell.failures[0] ?? { status: "error", message: "not run" };
    return { ...base, status: failure.status, reason: failure.message };
  }
  const s = cell.samples;
  const out: MeasuredResult = {
    ...base,
    status: "ok",
    value: median(s.map((x) => x.value)),
    unit: s[0]!.unit,
    runs: s.map((x) => x.value),
    rssMB: Math.round(median(s.map((x) => x.rssMB))),
  };
  const p99 = s.map((x) => x.p99).filter((v): v is number => v !== undefined);
  if (p99.length > 0) out.p99 = median(p99);
  const notes = [
    ...new Set(
      s
        .map((x) => x.note)
        .filter((n): n is string => Boolean(n))
        .map((n) => n.replace(/\d[\d,]* of /, "N of ")),
    ),
  ];
  if (notes.length > 0) out.note = notes.join("; ");
  const substitute = s.find((x) => x.substitute !== undefined)?.substitute;
  if (substitute !== undefined) out.substitute = substitute;
  if (s.some((x) => x.done < x.of)) out.partial = true;
  if (cell.failures.length > 0) out.failures = cell.failures.map((f) => `${f.status}: ${f.message}`);
  return out;
}

/** Runs one workload in a child process; a child past `timeoutMs` is killed and reported. */
function runChild(spec: ChildSpec, timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [childScript, JSON.stringify(spec)], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d).slice(-2000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The group, so a producer grandchild dies with it.
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ status: "timeout", message: `killed after ${timeoutMs / 1000} s` });
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) return resolve({ status: "error", message: `exit ${code}: ${lastError(stderr)}` });
      const parsed = JSON.parse(line.slice(7)) as ChildResult;
      if ("error" in parsed) return resolve({ status: "error", message: parsed.error });
      resolve({ status: "ok", figure: parsed.figure, rssMB: parsed.rssMB });
    });
  });
}

/** The line of a crash's stderr that names the error, not Node's version banner. */
function lastError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("    at ") && !l.startsWith("Node.js v"));
  return (lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1) ?? "").trim().slice(0, 300);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
