/*
 * The conformance harness: what a backend runner hands the suite, and the few helpers every
 * suite file shares (a fresh store per test, bounded polling, error assertions).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TestContext } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";

/** One store, fresh and empty, that a test may open as often as it likes. */
export interface Target {
  target: string;
  options: SpoolOptions;
  cleanup(): Promise<void>;
}

/** What a backend runner hands the suite. */
export interface BackendFixture {
  /** Shown in test names: "sqlite file", "sqlite :memory:", "postgres". */
  name: string;
  kind: "sqlite" | "postgres";
  /** Reopening the target finds the same jobs. */
  persistent: boolean;
  /** Other processes can open the target. */
  multiProcess: boolean;
  /** A fresh, empty store. */
  newTarget(): Promise<Target>;
}

/** A fresh store opened for one test; everything is closed and dropped when the test ends. */
export interface Db {
  spool: Spool;
  target: Target;
  /** Opens another Spool on the same store (persistent backends only). */
  reopen(extra?: SpoolOptions): Promise<Spool>;
}

/** Per-test options: a hung promise fails its test instead of the whole run. */
export const T = { timeout: 30_000 } as const;

export async function fresh(backend: BackendFixture, t: TestContext, extra: SpoolOptions = {}): Promise<Db> {
  const target = await backend.newTarget();
  const opened: Spool[] = [];
  t.after(async () => {
    // The test's child processes go first: a child still working the store while its schema is
    // dropped can deadlock with the DROP (40P01). Hooks run in the order registered, and this one
    // is registered before any child's.
    for (const stop of children.get(t) ?? []) await stop();
    for (const s of opened) await s.close().catch(() => {});
    await target.cleanup();
  });
  const open = async (more: SpoolOptions = {}) => {
    const s = await Spool.open(target.target, { ...target.options, ...extra, ...more });
    opened.push(s);
    return s;
  };
  const spool = await open();
  return { spool, target, reopen: open };
}

/** A SQLite file in a fresh temp directory. */
export function sqliteFileFixture(): BackendFixture {
  return {
    name: "sqlite file",
    kind: "sqlite",
    persistent: true,
    multiProcess: true,
    async newTarget() {
      const dir = mkdtempSync(join(tmpdir(), "spool-test-"));
      return {
        target: join(dir, "jobs.db"),
        options: {},
        async cleanup() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export function sqliteMemoryFixture(): BackendFixture {
  return {
    name: "sqlite :memory:",
    kind: "sqlite",
    persistent: false,
    multiProcess: false,
    async newTarget() {
      return { target: ":memory:", options: {}, async cleanup() {} };
    },
  };
}

/** A fresh random schema per test on the server at `url`, dropped afterwards. */
export function postgresFixture(url: string): BackendFixture {
  return {
    name: "postgres",
    kind: "postgres",
    persistent: true,
    multiProcess: true,
    async newTarget() {
      const schema = `spool_t_${randomBytes(6).toString("hex")}`;
      return {
        target: url,
        options: { schema },
        async cleanup() {
          const pg = (await import("pg")).default;
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

/** Polls `condition` until it holds; fails (naming `what`) after `timeoutMs`. Never a guessed sleep. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the wall clock passes `ms` (a Date or epoch ms): for leases and run times. */
export function clockPast(ms: Date | number, marginMs = 20): Promise<void> {
  const at = (typeof ms === "number" ? ms : ms.getTime()) + marginMs;
  return waitFor(`the clock to pass ${new Date(at).toISOString()}`, () => Date.now() > at, 60_000, 5);
}

/** Runs `fn`, which must throw or reject, and returns what it threw. */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return assert.fail("expected an error, got none");
}

/**
 * Asserts `fn` throws or rejects with a SpoolError of `code` whose message contains each of
 * `mentions`. Returns the error.
 */
export async function expectCode(
  fn: () => unknown,
  code: string,
  ...mentions: string[]
): Promise<SpoolError> {
  const err = await caught(fn);
  assert.ok(err instanceof SpoolError, `expected a SpoolError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
  for (const m of mentions)
    assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} should name ${m}`);
  return err;
}

/** Asserts `actual` (ms) is within `tolerance` ms of `expected`. */
export function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ≈${expected} (±${tolerance}), got ${actual} (off by ${actual - expected})`,
  );
}

// ---- child processes -------------------------------------------------------------------------

const helpers = new URL("../helpers/", import.meta.url);

export interface Child {
  pid: number;
  /** Every stdout line so far. */
  lines: string[];
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
  send(line: string): void;
  kill(signal: NodeJS.Signals): void;
  /** Waits for a stdout line matching `pattern` (bounded). */
  waitLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Each test's children, to stop before its store is cleaned up (see fresh). */
const children = new WeakMap<TestContext, Array<() => Promise<void>>>();

/** Starts `test/helpers/<script>` with tsx; killed when the test ends if still running. */
export function child(t: TestContext, script: string, ...args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", new URL(script, helpers).pathname, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout }).on("line", (l) => lines.push(l));
  createInterface({ input: proc.stderr }).on("line", (l) => stderr.push(l));
  const c: Child = {
    pid: proc.pid ?? -1,
    lines,
    stderr,
    exited: false,
    exit: new Promise((resolve) =>
      proc.on("exit", (code, signal) => {
        c.exited = true;
        resolve({ code, signal });
      }),
    ),
    send: (line) => {
      proc.stdin.write(`${line}\n`);
    },
    kill: (signal) => {
      if (!c.exited) proc.kill(signal);
    },
    async waitLine(pattern, timeoutMs = 20_000) {
      let found: string | undefined;
      await waitFor(
        `a line ${pattern} from ${script} (stderr: ${stderr.slice(-5).join(" | ")})`,
        () => {
          found = lines.find((l) => pattern.test(l));
          return found !== undefined || c.exited;
        },
        timeoutMs,
      );
      if (found === undefined)
        assert.fail(`${script} exited before printing ${pattern}: ${stderr.join("\n")}`);
      return found;
    },
  };
  proc.stdin.on("error", () => {});
  const stop = async () => {
    if (!c.exited) {
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await c.exit;
    }
  };
  children.set(t, [...(children.get(t) ?? []), stop]);
  t.after(stop);
  return c;
}

/** What a child script needs to open the same store: passed as its first argument. */
export function childTarget(target: Target): string {
  return JSON.stringify({ target: target.target, options: target.options });
}
