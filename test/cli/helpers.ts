/*
 * Shared by the CLI tests: they spawn the BUILT binary (dist/cli/main.js, from `npm run build`)
 * exactly as a user's shell would, in temporary directories, and wait for conditions rather
 * than sleeping for guessed times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after } from "node:test";

/** The built binary; SPOOL_CLI_BIN may point at a private build while others rebuild dist/. */
export const BIN = process.env.SPOOL_CLI_BIN ?? resolve(import.meta.dirname, "../../dist/cli/main.js");

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Written to stdin, which is then closed; stdin is closed at once when absent. */
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
}

/** Starts the binary and returns the child, with its output collected as it arrives. */
export function start(args: readonly string[], options: RunOptions = {}): ChildProcess & { out: Output } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: "1", COLUMNS: "100", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  }) as ChildProcess & { out: Output };
  const out: Output = { stdout: "", stderr: "" };
  child.out = out;
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out.stdout += s;
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    out.stderr += s;
  });
  child.stdin?.on("error", () => {}); // the binary may exit before reading all of it
  child.stdin?.end(options.input);
  return child;
}

export interface Output {
  stdout: string;
  stderr: string;
}

export function exited(child: ChildProcess & { out: Output }): Promise<Result> {
  return new Promise((resolveExit, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolveExit({ code, signal, ...child.out }));
  });
}

/** Runs `spool …` to completion. */
export function spool(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return exited(start(args, options));
}

/** A fresh directory, removed when the test process exits (hooks may end before tests use it). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-cli-"));
  if (made.length === 0)
    process.once("exit", () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  made.push(dir);
  return dir;
}
const made: string[] = [];

/** Polls `check` until it returns a truthy value; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Parses NDJSON output into objects. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A store the CLI is pointed at: its name for test titles, and how to make and fill it. */
export interface SeededTarget {
  name: string;
  /** Makes a fresh store, fills it with `fill`, and returns what to give the CLI as <db>. */
  seed(): Promise<string>;
}

/**
 * A SQLite file in `dir` and, when SPOOL_PG_URL is set, a fresh PostgreSQL schema (dropped
 * when the file's tests end), each filled by `fill` before the CLI sees it.
 */
export function seededTargets(
  dir: string,
  label: string,
  fill: (spool: import("../../src/index.js").Spool) => Promise<void>,
): SeededTarget[] {
  const targets: SeededTarget[] = [
    {
      name: "sqlite",
      async seed() {
        const { Spool } = await import("../../src/index.js");
        const db = join(dir, `${label}.db`);
        await fill(await Spool.open(db));
        return db;
      },
    },
  ];
  const base = process.env.SPOOL_PG_URL;
  if (!base) return targets;
  const schemas: string[] = [];
  targets.push({
    name: "postgres",
    async seed() {
      const { Spool } = await import("../../src/index.js");
      const schema = `spool_${label}_${randomBytes(4).toString("hex")}`;
      schemas.push(schema);
      await fill(await Spool.open(base, { schema }));
      const url = new URL(base);
      url.searchParams.set("schema", schema);
      return url.toString();
    },
  });
  after(() => dropSchemas(schemas));
  return targets;
}

/** Drops the PostgreSQL schemas a test file made (SPOOL_PG_URL), on a connection of its own. */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: process.env.SPOOL_PG_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}
