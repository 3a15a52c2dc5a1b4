// Every subject of the peer comparison by name, with what the report says beside its numbers.
//
// Two sets of peers: `npm run bench:peers` (Node 20) runs bench/'s (pg-boss 10, graphile-worker
// 0.17: the newest that run there); `npm run bench:peers:24` (Node 24) bench/node24/'s newest.
// The Node 24 run is compiled into bench/node24/.build/, so every package its code imports,
// better-sqlite3 for raw and Spool included, resolves from bench/node24/node_modules first: a
// native module built for Node 24's ABI, not the root's built for Node 20. The build a module
// runs from therefore decides its set, not the Node version: the two go together.
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { OpenSubject, Subject, SubjectOptions } from "../../src/bench/subject.js";
import type { PeerSet, Store } from "../document.js";
import { BENCH, ROOT } from "../paths.js";
import { openBullmqPg, openSpoolPg } from "./pg-peers.js";
import { openBullmq, openGraphile } from "./server-peers.js";
import { openLiteque, openPlainjob } from "./sqlite-peers.js";

/** The peer set of the build this runs from: the key under which its results are kept. */
export const PEER_SET: PeerSet = relative(BENCH, fileURLToPath(import.meta.url)).startsWith(`node24${sep}`)
  ? "node24"
  : "node20";

/** The folder whose node_modules hold this set's peers. */
const setDir = PEER_SET === "node24" ? join(BENCH, "node24") : BENCH;
const versionOf = (packageJson: string): string =>
  (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
/** The installed version of one of this set's packages (read from its file: some export no package.json). */
const installed = (name: string, dir = setDir): string =>
  versionOf(join(dir, "node_modules", name, "package.json"));

// Loaded by a path the compiler does not follow: each build holds only its own pg-boss adapter.
const pgBossAdapter = PEER_SET === "node24" ? "./pgboss-current.js" : "./pgboss-10.js";
const openPgBoss = async (options: SubjectOptions): Promise<Subject> =>
  ((await import(pgBossAdapter)) as { openPgBoss: (o: SubjectOptions) => Promise<Subject> }).openPgBoss(
    options,
  );

export interface Peer {
  label: string;
  store: Store;
  version: string;
  open: (options: SubjectOptions) => Promise<Subject>;
  note?: string;
}

const common: Record<string, Peer> = {
  raw: {
    label: "raw better-sqlite3",
    store: "sqlite",
    // The root's on Node 20; bench/node24's (the same release, built for Node 24) on Node 24.
    version: installed("better-sqlite3", PEER_SET === "node24" ? setDir : ROOT),
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
    version: installed("plainjob"),
    open: openPlainjob,
    note: "polls every 1 s when idle; N worker loops for concurrency N",
  },
};

const liteque: Peer = {
  label: "liteque",
  store: "sqlite",
  version: "0.8.0",
  open: openLiteque,
  note: "on better-sqlite3 11.9; polls every 1 s when idle; each dequeue sorts every pending row; its runner does not yield to timers while jobs are ready",
};

const servers: Record<string, Peer> = {
  bullmq: {
    label: "BullMQ",
    store: "redis",
    version: installed("bullmq"),
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
    version: installed("bullmq"),
    open: openBullmqPg,
    note: "createPostgresBackend",
  },
  pgboss: {
    label: "pg-boss",
    store: "postgres",
    version: installed("pg-boss"),
    open: openPgBoss,
    note: "polls every 2 s; sleeps the interval after each fetch",
  },
  graphile: {
    label: "graphile-worker",
    store: "postgres",
    version: installed("graphile-worker"),
    open: (o) => openGraphile(o, false),
    note: "LISTEN/NOTIFY",
  },
  "graphile-fast": {
    label: "graphile-worker (fast)",
    store: "postgres",
    version: installed("graphile-worker"),
    open: (o) => openGraphile(o, true),
    note: "localQueue 500, completeJobBatchDelay 0, failJobBatchDelay 0",
  },
};

/**
 * This set's subjects. liteque is in the Node 20 set only: it needs better-sqlite3 11.9
 * (bench/liteque/), whose native module is built there for Node 20.
 */
export const PEERS: Record<string, Peer> =
  PEER_SET === "node24" ? { ...common, ...servers } : { ...common, liteque, ...servers };

/** The producer child process opens subjects through this. */
export const openSubject: OpenSubject = (name, options) => {
  const peer = PEERS[name];
  if (!peer) return Promise.reject(new Error(`unknown peer "${name}"`));
  return peer.open(options);
};
