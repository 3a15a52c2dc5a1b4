// The history every fuzz process appends to its own file (one JSON record a line, written with
// appendFileSync so a record is on disk before the next step: what a SIGKILL cannot take back).
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What a child reads from argv[2]. */
export interface ChildConfig {
  target: string;
  options: Record<string, unknown>;
  queue: string;
  /** Directory of the round's history files. */
  dir: string;
  seed: number;
}

export type FuzzRecord =
  /** A producer's add (or batch) resolved with these ids. */
  | { e: "acked"; pid: number; ids: number[] }
  /** A handler run began: the job's leaseUntil as reserved. */
  | {
      e: "start";
      run: string;
      pid: number;
      job: number;
      attempt: number;
      /** The reservation's lease token (attempts repeat after a retry; tokens never do). */
      token?: number;
      t: number;
      lease: number;
    }
  /** A handler run ended; `lease` is the job's leaseUntil as the worker last renewed it. */
  | { e: "end"; run: string; t: number; lease: number; outcome: "ok" | "fail" | "aborted" }
  /**
   * A heartbeat: issued at `t` for these (job, token) pairs, answered by `done`; each not in
   * `lost` was held when the store took it, until at least t + ms (the store's now is later).
   */
  | { e: "hb"; pid: number; t: number; done: number; ms: number; held: [number, number][]; lost: number[] }
  /** An error a child saw (an add that failed, a worker "error" event). */
  | { e: "error"; pid: number; t: number; code: string; message: string };

export function recorder(dir: string, role: string): (r: FuzzRecord) => void {
  const file = join(dir, `${role}-${process.pid}.jsonl`);
  return (r) => appendFileSync(file, `${JSON.stringify(r)}\n`);
}

/** Every record of a round. A line cut short by SIGKILL is skipped. */
export function readHistory(dir: string): FuzzRecord[] {
  const out: FuzzRecord[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".jsonl"))
    .sort()) {
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
      if (line === "") continue;
      try {
        out.push(JSON.parse(line) as FuzzRecord);
      } catch {
        // The last line of a killed process may be partial; whatever it said did not complete.
      }
    }
  }
  return out;
}

export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "non-spool";
}

/** Long enough that nothing finished is purged before the round is checked. */
export const RETENTION = { completed: 86_400_000, dead: 86_400_000 } as const;

export interface ProducerConfig extends ChildConfig {
  /** Concurrent add loops. */
  loops: number;
  /** Longest pause between two adds of one loop, ms. */
  maxPauseMs: number;
}

export interface WorkerConfig extends ChildConfig {
  concurrency: number;
  lease: number;
  pollInterval: number;
  /** Probability that a handler run throws. */
  failRate: number;
  /** Longest handler run, ms (the longest ones outlive several heartbeats). */
  maxHandlerMs: number;
  /** stop({ timeout }) on SIGTERM. */
  stopTimeout: number;
}

export function config<C extends ChildConfig>(): C {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("missing the child config (argv[2])");
  return JSON.parse(raw) as C;
}
