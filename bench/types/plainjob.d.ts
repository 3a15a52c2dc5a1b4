// What bench/peers/sqlite-peers.ts uses of plainjob 0.0.14, for type-checking without the
// package installed (see bench/tsconfig.json). Installed, its own types replace this file.
import type { Database } from "better-sqlite3";

export interface Logger {
  error(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  debug(message: string, ...meta: unknown[]): void;
}

export interface Connection {
  pragma: (stmt: string) => void;
  close: () => void;
}

export interface Queue {
  add: (type: string, data: unknown) => { id: number };
  addMany: (type: string, data: unknown[]) => { ids: number[] };
  getAndMarkJobAsProcessing: (type: string) => { id: number } | undefined;
  markJobAsDone: (id: number) => void;
  close: () => void;
}

export interface Job {
  id: number;
  type: string;
  data: string;
}

export interface Worker {
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

export declare function better(database: Database): Connection;
export declare function defineQueue(opts: { connection: Connection; logger?: Logger }): Queue;
export declare function defineWorker(
  type: string,
  process: (job: Job) => Promise<void> | void,
  opts: { queue: Queue; logger?: Logger },
): Worker;
