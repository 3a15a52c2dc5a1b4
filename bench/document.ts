/*
 * The shape of bench/results/latest.json: what run.ts writes after a comparison and report.ts
 * turns into docs/benchmarks.md. One declaration, so the two cannot drift apart.
 */
import type { MachineInfo } from "../src/bench/machine.js";
import type { Figure } from "../src/bench/workloads.js";

export type Store = "sqlite" | "redis" | "postgres";

/** Which Node and peers a run used: Node 20 with bench/'s peers, Node 24 with bench/node24/'s. */
export type PeerSet = "node20" | "node24";

/** A SQLite peer is measured at each durability; a server peer at its server's settings. */
export type Durability = "normal" | "full" | "server";

export type ServerFacts = { version: string; durability: string } | { unreachable: string };

export interface PeerInfo {
  label: string;
  version: string;
  store: Store;
  note: string;
}

interface Cell {
  peer: string;
  durability: Durability;
  workload: string;
}

/** The median of a cell's runs. */
export interface MeasuredResult extends Cell {
  status: "ok";
  value: number;
  unit: Figure["unit"];
  runs: number[];
  rssMB: number;
  p99?: number;
  note?: string;
  /** Measured another way than the workload says (Figure.substitute): never a "best peer". */
  substitute?: string;
  /** Some run finished less than the count asked for within its budget. */
  partial?: true;
  /** Runs that failed beside the ones measured. */
  failures?: string[];
}

/** A cell with no figure: the peer lacks the capability, or every run failed. */
export interface UnmeasuredResult extends Cell {
  status: "n/a" | "timeout" | "error";
  reason: string;
}

export type ResultRow = MeasuredResult | UnmeasuredResult;

export interface ResultsDocument {
  machine: MachineInfo;
  /** `scale` (every count × it) only in a smoke run's results. */
  settings: { runs: number; budgetMs: number; timeoutMs: number; fullWorkloads: string[]; scale?: number };
  elapsedSeconds: number;
  servers: { redis: ServerFacts; postgres: ServerFacts };
  peers: Record<string, PeerInfo>;
  /** Workload id → its title. */
  workloads: Record<string, string>;
  results: ResultRow[];
}
