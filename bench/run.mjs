// The peer comparison: every subject × workload × run in a child process of its own, killed if
// it overstays; medians into bench/results/latest.json, tables and charts into docs/.
//
//   node bench/run.mjs [--runs 3] [--budget 1000] [--peers spool,raw,…] [--workloads add1,…]
//   node bench/run.mjs --report-only     (rewrites docs/benchmarks.md from latest.json)
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const resultsFile = join(here, "results", "latest.json");

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    budget: { type: "string", default: "1000" },
    timeout: { type: "string", default: "60000" },
    peers: { type: "string" },
    workloads: { type: "string" },
    "report-only": { type: "boolean", default: false },
  },
});

// Durability is where `full` costs: per-commit work. Reserve-at-depth and 1 MB payloads are
// measured at `normal` only, which keeps the whole comparison under ten minutes on 2 cores.
const FULL_WORKLOADS = new Set(["add1", "batch", "drain1", "drain16", "lat", "latx"]);

async function main() {
  if (args["report-only"]) {
    const { writeReport } = await import("./report.mjs");
    writeReport(JSON.parse(readFileSync(resultsFile, "utf8")), root);
    return;
  }
  if (!existsSync(join(root, "dist", "bench", "workloads.js"))) {
    throw new Error("dist/bench is missing: run `npm run build` at the repository root first");
  }
  // Children load Spool from a snapshot, so a rebuild elsewhere in the tree cannot pull dist/
  // out from under a ten-minute run.
  const snapshot = join(here, ".dist");
  rmSync(snapshot, { recursive: true, force: true });
  cpSync(join(root, "dist"), snapshot, { recursive: true });
  process.env.SPOOL_BENCH_DIST = snapshot;
  const { fromDist } = await import("./dist.mjs");
  const { WORKLOADS } = await import("./child.mjs");
  const { PEERS } = await import("./peers/index.mjs");
  const { machineInfo } = await fromDist("bench/machine.js");
  const { median } = await fromDist("bench/stats.js");
  const { serverFacts } = await import("./servers.mjs");

  const runs = Number(args.runs);
  const budgetMs = Number(args.budget);
  const timeoutMs = Number(args.timeout);
  const wanted = args.peers ? args.peers.split(",") : Object.keys(PEERS);
  const workloads = args.workloads ? args.workloads.split(",") : Object.keys(WORKLOADS);
  const servers = await serverFacts();

  /** One line of the plan: a peer at a durability (SQLite) or at its server's settings. */
  const configs = [];
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
  const cells = new Map();
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
          const cell = cells.get(key) ?? { ...config, workload, samples: [], failures: [] };
          cells.set(key, cell);
          if (config.durability === "full" && !FULL_WORKLOADS.has(workload)) continue;
          const peer = PEERS[config.peer];
          const unreachable = peer.store === "sqlite" ? null : servers[peer.store].unreachable;
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
          const spec = {
            peer: config.peer,
            workload,
            budgetMs,
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
    .map((c) => summarize(c, median));
  const document = {
    machine: machineInfo(),
    settings: { runs, budgetMs, timeoutMs, fullWorkloads: [...FULL_WORKLOADS] },
    elapsedSeconds: Math.round((Date.now() - began) / 1000),
    servers,
    peers: Object.fromEntries(
      wanted.map((id) => [
        id,
        {
          label: PEERS[id].label,
          version: PEERS[id].version,
          store: PEERS[id].store,
          note: PEERS[id].note ?? "",
        },
      ]),
    ),
    workloads: Object.fromEntries(workloads.map((w) => [w, WORKLOADS[w].title])),
    results,
  };
  mkdirSync(join(here, "results"), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(document, null, 2)}\n`);
  const { writeReport } = await import("./report.mjs");
  const table = writeReport(document, root);
  console.log(table);
  console.log(`\nwrote bench/results/latest.json and docs/benchmarks.md in ${document.elapsedSeconds} s`);
}

/** The median of a cell's runs, or why it has none. */
function summarize(cell, median) {
  const base = { peer: cell.peer, durability: cell.durability, workload: cell.workload };
  if (cell.na) return { ...base, status: "n/a", reason: cell.na };
  if (cell.samples.length === 0) {
    const failure = cell.failures[0] ?? { status: "error", message: "not run" };
    return { ...base, status: failure.status, reason: failure.message };
  }
  const s = cell.samples;
  const out = {
    ...base,
    status: "ok",
    value: median(s.map((x) => x.value)),
    unit: s[0].unit,
    runs: s.map((x) => x.value),
    rssMB: Math.round(median(s.map((x) => x.rssMB))),
  };
  const p99 = s.map((x) => x.p99).filter((v) => v !== undefined);
  if (p99.length > 0) out.p99 = median(p99);
  const notes = [
    ...new Set(
      s
        .map((x) => x.note)
        .filter(Boolean)
        .map((n) => n.replace(/\d[\d,]* of /, "N of ")),
    ),
  ];
  if (notes.length > 0) out.note = notes.join("; ");
  if (s.some((x) => x.done < x.of)) out.partial = true;
  if (cell.failures.length > 0) out.failures = cell.failures.map((f) => `${f.status}: ${f.message}`);
  return out;
}

/** Runs one workload in a child process; a child past `timeoutMs` is killed and reported. */
function runChild(spec, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, "child.mjs"), JSON.stringify(spec)], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The group, so a producer grandchild dies with it.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ status: "timeout", message: `killed after ${timeoutMs / 1000} s` });
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) return resolve({ status: "error", message: `exit ${code}: ${lastError(stderr)}` });
      const parsed = JSON.parse(line.slice(7));
      if (parsed.error) return resolve({ status: "error", message: parsed.error });
      resolve({ status: "ok", figure: parsed.figure, rssMB: parsed.rssMB });
    });
  });
}

/** The line of a crash's stderr that names the error, not Node's version banner. */
function lastError(stderr) {
  const lines = stderr
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("    at ") && !l.startsWith("Node.js v"));
  return (lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1) ?? "").trim().slice(0, 300);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
