/*
 * The CLI against clumsy and hostile input (issue 12): usage errors that must not create a
 * database, imports stopped by signals or by a refused line, a worker module that never
 * finishes loading, and job data full of terminal escape sequences.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { BIN, exited, ndjson, type Output, spool, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `h${++n}.db`);
const T = { timeout: 120_000 };

/** The binary with stdin left open, for a test that feeds it and then interrupts it. */
function startOpen(args: readonly string[]): ChildProcess & { out: Output } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", COLUMNS: "100" },
    stdio: ["pipe", "pipe", "pipe"],
  }) as ChildProcess & { out: Output };
  child.out = { stdout: "", stderr: "" };
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    child.out.stdout += s;
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    child.out.stderr += s;
  });
  child.stdin?.on("error", () => {});
  return child;
}

async function pendingPayloads(db: string, queue: string): Promise<unknown[]> {
  // Never create: the file may be one an import is still setting up.
  const s = await Spool.open(db, { create: false });
  try {
    return (await s.queue(queue).list({ state: "pending", limit: 100_000 })).map((j) => j.payload);
  } finally {
    await s.close();
  }
}

const record = (i: number) => `${JSON.stringify({ payload: { i } })}\n`;

describe("spool CLI against hostile input", () => {
  test("a bad queue name is bad usage (exit 2) and creates no database", T, async () => {
    for (const args of [
      ["add", "DB", "bad name!", "1"],
      ["import", "DB", "bad name!"],
      ["add", "DB", "", "1"],
      ["import", "DB", "x".repeat(200)],
    ]) {
      const db = freshDb();
      const r = await spool(
        args.map((a) => (a === "DB" ? db : a)),
        { input: record(1) },
      );
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /invalid queue name/);
      assert.doesNotMatch(r.stderr, /--skip/, "no resume hint for a command that never started");
      assert.equal(existsSync(db), false, `${args.join(" ")} created ${db}`);
    }
  });

  test(
    "every command with missing or hostile arguments is bad usage, echoes no escape, creates nothing",
    T,
    async () => {
      const db = freshDb();
      const evil = "q\u001b]0;owned\u0007\u001b[2J";
      const commands = ["add", "list", "retry", "purge", "export", "import", "work", "stats", "dashboard"];
      const cases: string[][] = [];
      for (const command of commands) {
        cases.push([command]);
        if (command !== "stats" && command !== "dashboard") cases.push([command, db, evil, "1"]);
        cases.push([command, db, "--bogus", evil]);
      }
      cases.push(["list", db, "q", "--limit", "2.5"], ["list", db, "q", "--state", evil], ["purge", db, "q"]);
      cases.push(
        ["retry", db, "q", "1", "--all"],
        ["retry", db, "q", "0"],
        ["stats", db, "--interval", "1ms"],
      );
      cases.push([evil], ["import", db, "q", "--skip", "-1"], ["add", db, "q", "{not json"]);
      for (const args of cases) {
        const r = await spool(args, { input: "" });
        assert.equal(r.code, 2, `${JSON.stringify(args)}: ${r.code} ${r.stderr}`);
        assert.ok(!(r.stderr + r.stdout).includes("\u001b"), `${JSON.stringify(args)} echoed an escape`);
        assert.equal(existsSync(db), false, `${JSON.stringify(args)} created ${db}`);
      }
    },
  );

  test("a malformed schema is bad usage (exit 2), before any connection", T, async () => {
    const url = "postgres://nobody@127.0.0.1:1/db";
    for (const args of [
      ["stats", `${url}?schema=Bad-Name`],
      ["list", `${url}?schema=1x`, "q"],
      ["stats", url, "--schema", "x;drop"],
    ]) {
      const r = await spool(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /schema/);
    }
  });

  test("dashboard --host 127.0.0.2 is loopback: it serves without a token", T, async () => {
    const db = freshDb();
    assert.equal((await spool(["add", db, "q", "1"])).code, 0);
    const child = start(["dashboard", db, "--host", "127.0.0.2", "--port", "0"]);
    const exit = exited(child);
    const url = await waitFor(
      "the dashboard to serve",
      () => /at (http:\/\/127\.0\.0\.2:\d+\/)/.exec(child.out.stdout)?.[1],
    );
    const res = await fetch(`${url}api/overview`);
    assert.equal(res.status, 200);
    child.kill("SIGINT");
    const r = await exit;
    assert.equal(r.code, 0, r.stderr);
    const exposed = await spool(["dashboard", db, "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(exposed.code, 2, "beyond loopback a token is still required");
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    test(
      `import stopped by ${signal} keeps what it read, exits ${code} and says how to resume`,
      T,
      async (t) => {
        const db = freshDb();
        const child = startOpen(["import", db, "q", "--batch-size", "10"]);
        const exit = exited(child);
        t.after(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        });
        let input = "";
        for (let i = 1; i <= 25; i++) input += record(i);
        child.stdin?.write(input);
        // Two batches committed: the import is under way, with five lines still in its batch.
        try {
          await waitFor("two batches to commit", async () => {
            if (!existsSync(db)) return false;
            // The import may still be creating the file: a busy answer just means "not yet".
            return (await pendingPayloads(db, "q").catch(() => [])).length >= 20;
          });
        } catch (error) {
          throw new Error(`${(error as Error).message}; the import said: ${child.out.stderr}`);
        }
        child.kill(signal);
        const r = await exit;
        assert.equal(r.code, code, `${r.code} ${r.signal} ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`interrupted by ${signal}`));
        const hint = /resume with: (spool import .*--skip (\d+)) \(on the same input\)/.exec(r.stderr);
        assert.ok(hint, r.stderr);
        const skip = Number(hint[2]);
        const imported = await pendingPayloads(db, "q");
        assert.equal(imported.length, skip, "the lines before --skip are exactly the imported ones");
        assert.match(
          hint[1] ?? "",
          new RegExp(`^spool import ${db.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} q --batch-size 10 --skip`),
        );

        // The hint, run on the whole input, imports the rest: every line once, in order.
        let all = "";
        for (let i = 1; i <= 40; i++) all += record(i);
        const resumed = await spool(["import", db, "q", "--batch-size", "10", "--skip", String(skip)], {
          input: all,
        });
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.deepEqual(
          await pendingPayloads(db, "q"),
          Array.from({ length: 40 }, (_, i) => ({ i: i + 1 })),
        );
      },
    );
  }

  test(
    "import names the input line of a refused payload, and resumes after the lines before it",
    T,
    async () => {
      const db = freshDb();
      const huge = `${JSON.stringify({ payload: "x".repeat(64 * 1024 * 1024 + 10) })}\n`;
      const input = record(1) + record(2) + huge + record(4);
      const r = await spool(["import", db, "q"], { input });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /stdin line 3: payload is \d+ bytes/);
      assert.match(r.stderr, /--skip 2\b/);
      assert.deepEqual(await pendingPayloads(db, "q"), [{ i: 1 }, { i: 2 }]);
    },
  );

  test("import counts lines whose key matches a live job as duplicates, not as imported", T, async () => {
    const db = freshDb();
    const s = await Spool.open(db);
    await s.queue("q").add("already here", { key: "k1" });
    await s.close();
    const line = (payload: number, key?: string) =>
      `${JSON.stringify({ payload, ...(key ? { key } : {}) })}\n`;
    const input = line(1, "k1") + line(2, "k2") + line(3, "k2") + line(4) + line(5, "k1");
    const first = await spool(["import", db, "q", "--json"], { input });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { imported: 2, duplicates: 3, skipped: 0, lines: 5 });
    const again = await spool(["import", db, "q"], { input });
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /^imported 1 job into q \(4 lines skipped: a live job of the queue has that key\)$/m,
    );
    assert.deepEqual(await pendingPayloads(db, "q"), ["already here", 2, 4, 4]);
  });

  test(
    "a worker module whose top-level await never settles is reported, not a silent exit 13",
    T,
    async () => {
      const db = freshDb();
      assert.equal((await spool(["add", db, "q", "1"])).code, 0);
      const module = join(dir, "hangs.mjs");
      writeFileSync(module, "await new Promise(() => {});\nexport default async function () {}\n");
      const r = await spool(["work", db, "q", module]);
      assert.equal(r.code, 1, `${r.code} ${r.stderr}`);
      assert.match(r.stderr, /loading the worker module .*hangs\.mjs/);
      assert.match(r.stderr, /never settle/);
    },
  );

  test("escape sequences in job data never reach the terminal raw", T, async () => {
    const db = freshDb();
    const evil = "\u001b]0;owned\u0007\u001b[2J\u009b31m\r\u007fbell\u0007";
    const s = await Spool.open(db);
    const q = s.queue("q");
    await q.add({ note: evil }, { maxAttempts: 1 });
    const job = await q.reserve();
    assert.ok(job);
    await q.fail(job, new Error(evil));
    await q.add({ note: evil });
    await s.close();
    const raw = /[^\t\n\u0020-\u007e\u00a0-\uffff]/;
    for (const args of [
      ["list", db, "q"],
      ["list", db, "q", "--state", "dead"],
      ["list", db, "q", "--json"],
      ["export", db, "q"],
      ["stats", db],
    ]) {
      const r = await spool(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, raw, `${args.join(" ")} printed a control character`);
    }
    const exported = ndjson((await spool(["export", db, "q"])).stdout);
    assert.deepEqual(exported[0]?.payload, { note: evil }, "JSON escapes keep the value");

    const handler = join(dir, "evil.mjs");
    writeFileSync(
      handler,
      `export default async function () { throw new Error(${JSON.stringify(evil)}); }\n`,
    );
    const worker = start(["work", db, "q", handler]);
    const exit = exited(worker);
    await waitFor("the failure to be logged", () => worker.out.stderr.includes("failed (attempt"));
    worker.kill("SIGTERM");
    const r = await exit;
    assert.doesNotMatch(r.stdout + r.stderr, raw, "work logged a control character");
    assert.match(r.stderr, /\\x1b\]0;owned/);
  });
});
