// Every subject of the peer comparison by name, with what the report says beside its numbers.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { OpenSubject, Subject, SubjectOptions } from "../../src/bench/subject.js";
import type { Store } from "../document.js";
import { ROOT } from "../paths.js";
import { openBullmqPg, openSpoolPg } from "./pg-peers.js";
import { openBullmq, openGraphile, openPgBoss } from "./server-peers.js";
import { openLiteque, openPlainjob } from "./sqlite-peers.js";

const versionOf = (packageJson: string): string =>
  (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
const rootRequire = createRequire(join(ROOT, "package.json"));

export interface Peer {
  label: string;
  store: Store;
  version: string;
  open: (options: SubjectOptions) => Promise<Subject>;
  note?: string;
}

export const PEERS: Record<string, Peer> = {
  raw: {
    label: "raw better-sqlite3",
    store: "sqlite",
    version: versionOf(rootRequire.resolve("better-sqlite3/package.json")),
    open: async (o) => (await import("../../src/bench/raw.js")).openRaw(o),
    note: "the same SQL, no library: the limit",
  },
  // Loaded on use, so the peers still run (and Spool's cells say why) if the core fails to load.
  spool: {
    label: "Spool",
    store: "sqlite",
    version: versionOf(join(ROOT, "package.json")),
    open: async (o) => (await import("../../src/bench/spool-subject.js")).openSpool(o),
  },
  plainjob: {
    label: "plainjob",
    store: "sqlite",
    version: "0.0.14",
    open: openPlainjob,
    note: "polls every 1 s when idle; N worker loops for concurrency N",
  },
  liteque: {
    label: "liteque",
    store: "sqlite",
    version: "0.8.0",
    open: openLiteque,
    note: "on better-sqlite3 11.9; polls every 1 s when idle; each dequeue sorts every pending row; its runner does not yield to timers while jobs are ready",
  },
  bullmq: {
    label: "BullMQ",
    store: "redis",
    version: "6.7.0",
    open: openBullmq,
    note: "Redis, event-driven",
  },
  "spool-pg": {
    label: "Spool (PostgreSQL)",
    store: "postgres",
    version: versionOf(join(ROOT, "package.json")),
    open: openSpoolPg,
  },
  "bullmq-pg": {
    label: "BullMQ (PostgreSQL)",
    store: "postgres",
    version: "6.7.0",
    open: openBullmqPg,
    note: "createPostgresBackend",
  },
  pgboss: {
    label: "pg-boss",
    store: "postgres",
    version: "10.4.2",
    open: openPgBoss,
    note: "polls every 2 s; sleeps the interval after each fetch",
  },
  graphile: {
    label: "graphile-worker",
    store: "postgres",
    version: "0.17.3",
    open: (o) => openGraphile(o, false),
    note: "LISTEN/NOTIFY",
  },
  "graphile-fast": {
    label: "graphile-worker (fast)",
    store: "postgres",
    version: "0.17.3",
    open: (o) => openGraphile(o, true),
    note: "localQueue 500, completeJobBatchDelay 0, failJobBatchDelay 0",
  },
};

/** The producer child process opens subjects through this. */
export const openSubject: OpenSubject = (name, options) => {
  const peer = PEERS[name];
  if (!peer) return Promise.reject(new Error(`unknown peer "${name}"`));
  return peer.open(options);
};
