/*
 * Data the CLI did not write itself (review 12): rows changed by hand or by another tool, queue
 * names with C1 controls, errors with bidirectional overrides, handlers that throw values that
 * cannot be turned into text. What is printed stays inert on a terminal and every export line
 * stays one valid JSON object.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";
import { exited, ndjson, spool, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `d${++n}.db`);

/** What a terminal acts on (but newline and tab): controls, format characters, separators. */
const RAW_BUT_BREAKS = /(?![\t\n])[\p{Cc}\p{Cf}\u2028\u2029]/u;
/** What JSON output escapes: DEL, C1, the separators and the bidirectional controls. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

function rawSql(db: string, sql: string, ...params: unknown[]): void {
  const d = openRawSqlite(db);
  try {
    d.prepare(sql).run(...params);
  } finally {
    d.close();
  }
}

describe("data the CLI did not write", () => {
  test("stats --watch --json escapes C1 controls and U+2028 in a stored queue name", async () => {
    const db = freshDb();
    assert.equal((await spool(["add", db, "emails", '{"x":1}'])).code, 0);
    rawSql(db, "UPDATE spool_jobs SET queue = ?", "bad\u009b2J\u2028name");
    const child = start(["stats", db, "--watch", "--json", "--interval", "100ms"]);
    const exit = exited(child);
    await waitFor("one frame", () => child.out.stdout.includes("\n"));
    child.kill("SIGINT");
    const r = await exit;
    const first = r.stdout.split("\n")[0] ?? "";
    assert.doesNotMatch(first, RAW_IN_JSON, "a raw C1 control or separator was written");
    assert.ok(first.includes("bad\\u009b2J\\u2028name"), first);
    assert.deepEqual(Object.keys((JSON.parse(first) as { queues: object }).queues), [
      "bad\u009b2J\u2028name",
    ]);
  });

  test("bidi overrides and other format characters are escaped in tables and worker logs", async () => {
    const db = freshDb();
    const evil = "refund \u202eexe.txt\u202c ok\u2066\u200b\u200e\u061c\ufeff\u{e0041}";
    const s = await Spool.open(db);
    await s.queue("q").add({ note: evil });
    await s.close();
    const list = await spool(["list", db, "q"]);
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, RAW_BUT_BREAKS, "list printed a format character raw");
    assert.ok(list.stdout.includes("\\u202eexe.txt\\u202c"), list.stdout);
    // JSON output escapes the bidirectional controls and keeps the value.
    const exported = await spool(["export", db, "q"]);
    assert.doesNotMatch(exported.stdout, RAW_IN_JSON);
    assert.deepEqual(ndjson(exported.stdout)[0]?.payload, { note: evil });

    const handler = join(dir, "bidi.mjs");
    writeFileSync(handler, `export default async () => { throw new Error(${JSON.stringify(evil)}); };\n`);
    const worker = start(["work", db, "q", handler]);
    const exit = exited(worker);
    await waitFor("the failure logged", () => worker.out.stderr.includes("failed (attempt"));
    worker.kill("SIGTERM");
    const r = await exit;
    assert.doesNotMatch(r.stderr, RAW_BUT_BREAKS, "work logged a format character raw");
    // (The log line turns whitespace into spaces, U+FEFF included.)
    assert.match(r.stderr, /refund \\u202eexe\.txt\\u202c ok\\u2066\\u200b\\u200e\\u061c \\u\{e0041\}/);
  });

  test("a handler throwing a value with no text still gets its failure line", async () => {
    const db = freshDb();
    assert.equal((await spool(["add", db, "q", "1"])).code, 0);
    assert.equal((await spool(["add", db, "q", "2"])).code, 0);
    const handler = join(dir, "exotic.mjs");
    writeFileSync(
      handler,
      `export default async function (job) {
  if (job.id === 1) throw Object.create(null);
  throw { toString() { throw new Error("toString failed"); } };
}
`,
    );
    const worker = start(["work", db, "q", handler]);
    const exit = exited(worker);
    await waitFor("both failures logged", () =>
      /job 1 failed[\s\S]*job 2 failed|job 2 failed[\s\S]*job 1 failed/.test(worker.out.stderr),
    );
    worker.kill("SIGTERM");
    const r = await exit;
    assert.doesNotMatch(r.stderr, /worker error/, r.stderr);
    // The line shows what the job stores as its lastError.
    assert.match(r.stderr, /job 1 failed \(attempt 1\/3, will retry\): \{\}/);
    assert.match(r.stderr, /job 2 failed \(attempt 1\/3, will retry\): \{\}/);
  });

  test("export and list --json write one valid JSON line per job whatever bytes a row holds", async () => {
    const db = freshDb();
    const s = await Spool.open(db);
    const q = s.queue("q");
    for (let i = 1; i <= 5; i++) await q.add({ ok: i });
    await s.close();
    const rows: [number, string][] = [
      [1, '"\u001b]0;HACKED\u0007\u001b[2J"'], // a raw ESC inside a string: not JSON
      [2, '1}\n{"payload":{"forged":true},"priority":99'], // a forged second line
      [3, '1,"priority":99'], // a forged field on the same line
      [4, '{\n  "pretty": [1, 2]\n}'], // valid JSON, but not on one line
    ];
    for (const [id, bytes] of rows)
      rawSql(db, "UPDATE spool_jobs SET body = ? WHERE id = ?", Buffer.from(bytes), id);
    for (const args of [
      ["export", db, "q"],
      ["list", db, "q", "--json"],
    ]) {
      const r = await spool(args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /(?![\t\n])\p{Cc}/u, `${args[0]} wrote a raw control`);
      const lines = r.stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => l.replace(/,$/, ""));
      assert.equal(lines.length, 5, `${args[0]}: one line per job:\n${r.stdout}`);
      const jobs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        jobs.map((j) => j.priority),
        [0, 0, 0, 0, 0],
      );
      // Not JSON: its bytes, as base64. JSON written another way: its value.
      assert.equal(Buffer.from(jobs[0]?.payload as string, "base64").toString(), rows[0]?.[1]);
      assert.equal(jobs[0]?.encoding, "base64");
      assert.equal(Buffer.from(jobs[1]?.payload as string, "base64").toString(), rows[1]?.[1]);
      assert.equal(Buffer.from(jobs[2]?.payload as string, "base64").toString(), rows[2]?.[1]);
      assert.deepEqual(jobs[3]?.payload, { pretty: [1, 2] });
      assert.equal(jobs[3]?.encoding, undefined);
      assert.deepEqual(jobs[4]?.payload, { ok: 5 });
    }
    // Through import, five jobs stay five, none with a forged priority.
    const copy = freshDb();
    const exported = await spool(["export", db, "q"]);
    const imported = await spool(["import", copy, "q"], { input: exported.stdout });
    assert.equal(imported.code, 0, imported.stderr);
    const c = await Spool.open(copy);
    const jobs = await c.queue("q").list({ state: "pending", limit: 100 });
    await c.close();
    assert.equal(jobs.length, 5);
    assert.deepEqual(
      jobs.map((j) => j.priority),
      [0, 0, 0, 0, 0],
    );
  });
});
