// spool work: runs a module's handler, logs failures, stops gracefully on a signal, losing nothing.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { exited, spool, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `t${++n}.db`);

/** A handler that records each job it finishes in $DONE_FILE, fails on {fail}, hangs on {hang}. */
const HANDLER = join(dir, "handler.mjs");
writeFileSync(
  HANDLER,
  `import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
export default async function (job) {
  if (job.payload.hang) await new Promise(() => {});
  if (job.payload.fail) throw new Error("mailbox full");
  await sleep(job.payload.ms ?? 0);
  appendFileSync(process.env.DONE_FILE, job.id + "\\n");
  return "done";
}
`,
);

function doneIds(file: string): number[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map(Number) : [];
}

async function sizeOf(db: string, queue: string) {
  const s = await Spool.open(db);
  const size = await s.queue(queue).size();
  await s.close();
  return size;
}

describe("spool work", () => {
  test("processes jobs and, on SIGTERM, finishes the running ones and loses none", async () => {
    const db = freshDb();
    const doneFile = join(dir, "done-1.txt");
    const s = await Spool.open(db);
    await s.queue("mail").addBatch(Array.from({ length: 60 }, () => ({ ms: 40 })));
    await s.close();
    const child = start(["work", db, "mail", HANDLER, "--concurrency", "4"], {
      env: { DONE_FILE: doneFile },
    });
    await waitFor("some jobs done", () => doneIds(doneFile).length >= 8);
    child.kill("SIGTERM");
    const r = await exited(child);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /working on queue mail .*concurrency 4/);
    assert.match(r.stderr, /SIGTERM: stopping; waiting for running jobs to finish/);
    assert.match(r.stderr, /stopped: \d+ completed, 0 failed/);
    const ids = doneIds(doneFile);
    assert.equal(new Set(ids).size, ids.length, "no job handled twice");
    const size = await sizeOf(db, "mail");
    assert.equal(size.reserved, 0, "nothing left reserved");
    assert.equal(size.completed, ids.length);
    assert.equal(size.completed + size.pending, 60);
    assert.ok(size.pending > 0, "it stopped before draining the queue");
  });

  test("logs one line per failure and handles jobs added while it runs", async () => {
    const db = freshDb();
    const doneFile = join(dir, "done-2.txt");
    await spool(["add", db, "mail", '{"fail":true}', "--max-attempts", "1"]);
    const child = start(["work", db, "mail", HANDLER], { env: { DONE_FILE: doneFile } });
    await waitFor("the failure logged", () => /job 1 failed/.test(child.out.stderr));
    const added = await spool(["add", db, "mail", '{"ms":1}']);
    assert.equal(added.stdout, "2\n");
    await waitFor("the new job done", () => doneIds(doneFile).includes(2));
    child.kill("SIGINT");
    const r = await exited(child);
    assert.equal(r.code, 0, r.stderr);
    const failures = r.stderr.split("\n").filter((l) => l.includes("failed ("));
    assert.equal(failures.length, 1);
    assert.match(failures[0] ?? "", /job 1 failed \(attempt 1\/1, dead\): mailbox full$/);
    const size = await sizeOf(db, "mail");
    assert.deepEqual([size.dead, size.completed], [1, 1]);
  });

  test("a second signal forces the exit; the interrupted job comes back", async () => {
    const db = freshDb();
    await spool(["add", db, "stuck", '{"hang":true}']);
    const child = start(["work", db, "stuck", HANDLER, "--lease", "1s"], {
      env: { DONE_FILE: join(dir, "x") },
    });
    await waitFor("the job reserved", async () => (await sizeOf(db, "stuck")).reserved === 1);
    child.kill("SIGTERM");
    await waitFor("the graceful stop begun", () => child.out.stderr.includes("stopping"));
    child.kill("SIGTERM");
    const r = await exited(child);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SIGTERM again: aborting running jobs/);
    // Released at once, or at worst when the lease runs out: never lost.
    const s = await Spool.open(db);
    const job = await waitFor("the job ready again", () => s.queue("stuck").reserve(), 10_000);
    await s.close();
    assert.deepEqual(job.payload, { hang: true });
  });

  test("a module without a default-exported function is refused", async () => {
    const db = freshDb();
    await spool(["add", db, "q", "1"]);
    const bad = join(dir, "named.mjs");
    writeFileSync(bad, "export function handler() {}\n");
    const r = await spool(["work", db, "q", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no default-exported function; write e\.g\. export default async function/);
    const missing = await spool(["work", db, "q", join(dir, "nope.mjs")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no module at/);
  });
});
