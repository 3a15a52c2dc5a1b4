/*
 * Memory stays bounded at the edges (issue 12), measured as the peak RSS of the real process:
 * listing and exporting 10 MB payloads, the dashboard's job list over them, and thousands of
 * made-up queue names asked of the dashboard. The bounds are generous (a few times what the
 * process needs); what they catch is memory that grows with the payloads a page holds.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Spool } from "../../src/index.js";
import { BIN, exited, type Output, seededTargets, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
const T = { timeout: 300_000 };
const MB = 1024 * 1024;
/** Jobs of 10 MB: one page of them holds 320 MB of payload. */
const JOBS = 32;
const PAYLOAD = 10 * MB;
/*
 * Streaming one 10 MB job at a time peaks near 170 MB on a quiet machine and higher on a busy
 * one (freed strings wait for a collection: CI once saw 250 MB); holding a page of 32 whole
 * peaks near 440 MB. The bound sits between, clear of both (with 16 jobs it was not: the two
 * overlapped under load).
 */
const BOUND = 350 * MB;

/** Writes this process's peak RSS (bytes) to the file named by SPOOL_TEST_MAXRSS on exit. */
const probe = join(dir, "maxrss.mjs");
writeFileSync(
  probe,
  `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(process.env.SPOOL_TEST_MAXRSS, String(process.resourceUsage().maxRSS * 1024)));
`,
);

let runs = 0;
/** The binary under the probe; `peak()` reads its peak RSS once it has exited. */
function measured(args: readonly string[]): ChildProcess & { out: Output; peak: () => number } {
  const file = join(dir, `rss-${++runs}`);
  const child = spawn(process.execPath, ["--import", probe, BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", COLUMNS: "100", SPOOL_TEST_MAXRSS: file },
    stdio: ["pipe", "pipe", "pipe"],
  }) as ChildProcess & { out: Output; peak: () => number };
  child.out = { stdout: "", stderr: "" };
  let bytes = 0;
  // Count stdout rather than keep it: an export of 160 MB would otherwise measure the test.
  child.stdout?.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (child.out.stdout.length < 64 * 1024) child.out.stdout += chunk.toString("utf8");
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    child.out.stderr += s;
  });
  child.stdin?.end();
  child.peak = () => Number(readFileSync(file, "utf8"));
  Object.defineProperty(child, "stdoutBytes", { get: () => bytes });
  return child;
}

const stdoutBytes = (child: ChildProcess) => (child as unknown as { stdoutBytes: number }).stdoutBytes;

const targets = seededTargets(dir, "mem", fill);

async function fill(spool: Spool): Promise<void> {
  const queue = spool.queue("big");
  for (let i = 0; i < JOBS; i++) await queue.add({ i, text: String(i % 10).repeat(PAYLOAD) });
  await spool.close();
}

for (const target of targets) {
  describe(`peak memory with 10 MB payloads (${target.name})`, () => {
    let db = "";
    test("seed", T, async () => {
      db = await target.seed();
    });

    test("spool list reads previews: its peak RSS does not grow with the payloads", T, async () => {
      const child = measured(["list", db, "big", "--limit", String(JOBS)]);
      const r = await exited(child);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(child.out.stdout.trim().split("\n").length, JOBS + 1);
      assert.ok(child.peak() < BOUND, `list peaked at ${Math.round(child.peak() / MB)} MB`);
    });

    test("spool list --json streams whole jobs: its peak RSS does not grow with the page", T, async () => {
      const child = measured(["list", db, "big", "--json", "--limit", "50"]);
      const r = await exited(child);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(stdoutBytes(child) > JOBS * PAYLOAD, `listed ${stdoutBytes(child)} bytes`);
      assert.ok(child.peak() < BOUND, `list --json peaked at ${Math.round(child.peak() / MB)} MB`);
      // A JSON array, one whole job per line: its start and its first job read as such.
      assert.match(child.out.stdout, /^\[\n\{"id":1,"queue":"big","state":"pending",/);
    });

    test("spool export streams: its peak RSS does not grow with the page", T, async () => {
      const child = measured(["export", db, "big"]);
      const r = await exited(child);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(stdoutBytes(child) > JOBS * PAYLOAD, `exported ${stdoutBytes(child)} bytes`);
      assert.ok(child.peak() < BOUND, `export peaked at ${Math.round(child.peak() / MB)} MB`);
    });

    test("the dashboard's job list and 3000 made-up queue names keep its peak RSS bounded", T, async () => {
      const child = measured(["dashboard", db, "--port", "0"]);
      const exit = exited(child);
      const url = await waitFor("the dashboard", () => /at (http:\S+\/)/.exec(child.out.stdout)?.[1]);
      const page = await fetch(`${url}api/queues/big/jobs?state=pending&limit=50`);
      assert.equal(page.status, 200);
      const body = (await page.json()) as { jobs: unknown[] };
      assert.equal(body.jobs.length, JOBS);
      const detail = await fetch(`${url}api/queues/big/jobs/1`);
      assert.equal(detail.status, 200);
      await detail.arrayBuffer();
      for (let i = 0; i < 3000; i += 50) {
        const batch = Array.from({ length: 50 }, (_, k) =>
          fetch(`${url}api/queues/made-up-${i + k}/jobs?state=dead`).then((res) => res.status),
        );
        assert.deepEqual(new Set(await Promise.all(batch)), new Set([404]));
      }
      child.kill("SIGINT");
      const r = await exit;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(child.peak() < BOUND, `the dashboard peaked at ${Math.round(child.peak() / MB)} MB`);
    });
  });
}
