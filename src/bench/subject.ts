/*
 * The shape every measured queue takes: Spool, raw better-sqlite3, and (in bench/) each peer.
 * Workloads speak only to this interface, so every subject is driven by the same code and a
 * difference in a figure comes from the queue, not from the harness.
 */
import type { BenchPayload } from "./stats.js";

export type BenchDurability = "normal" | "full";

export interface SubjectOptions {
  durability: BenchDurability;
  /** The SQLite file (SQLite subjects) or a scratch directory (server subjects). */
  path: string;
  /** Queue name; producer processes pass the same one to reach the same queue. */
  name: string;
  /** SQLite subjects: the driver (Spool's `driver` option; raw uses that driver directly). */
  driver?: "better-sqlite3" | "node:sqlite" | "bun:sqlite";
  /** "producer": the process only adds (cross-process latency); skip schema resets. */
  role?: "main" | "producer";
}

export interface RunningWorker {
  /** Stops taking jobs and waits for the running handlers. */
  stop(): Promise<void>;
}

/** A capability a subject lacks, with the reason shown beside its `n/a`. */
export interface Missing {
  reason: string;
}

export interface Subject {
  /** Adds one job, committed when the promise resolves. */
  addOne(payload: BenchPayload): Promise<void>;
  /** Adds jobs in one call (one transaction where the subject has one), or why it cannot. */
  addBatch: ((payloads: BenchPayload[]) => Promise<void>) | Missing;
  /** Fills the queue as fast as the subject allows; not measured. */
  prefill(count: number, make: (i: number) => BenchPayload): Promise<void>;
  /**
   * Reserves the next ready job and completes it, as a caller without a worker would; false
   * when none was ready. A Missing means the subject has no such call: the workload then
   * measures its worker at concurrency 1 instead, and says so.
   */
  takeOne: (() => Promise<boolean>) | Missing;
  /** Starts a worker that calls `handler` with each job's payload, then completes the job. */
  work(handler: (payload: BenchPayload) => void, concurrency: number): Promise<RunningWorker>;
  close(): Promise<void>;
}

/** Opens a subject by name; the peer comparison and the producer child process use it. */
export type OpenSubject = (name: string, options: SubjectOptions) => Promise<Subject>;

export function isMissing(value: unknown): value is Missing {
  return typeof value === "object" && value !== null && "reason" in value;
}
