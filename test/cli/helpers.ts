/*
 * Shared by the CLI tests: they spawn the BUILT binary (dist/cli/main.js, from `npm run build`)
 * exactly as a user's shell would, in temporary directories, and wait for conditions rather
 * than sleeping for guessed times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

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
