// spool demo: the README's first command finishes quickly with exit 0 and a summary.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { spool, tempDir } from "./helpers.js";

describe("spool demo", () => {
  test("fills ./spool-demo.db, drains it, and ends with the stats table and next steps", async () => {
    const cwd = tempDir();
    const started = Date.now();
    const r = await spool(["demo"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 60_000, "well under a minute");
    assert.match(r.stdout, /Enqueued 3000 jobs into spool-demo\.db/);
    // Off a terminal, progress is plain periodic lines, never a bar's control codes.
    assert.ok(!(r.stdout + r.stderr).includes("\u001b["), "no ANSI escapes");
    assert.match(
      r.stdout,
      /Processed 3000 jobs in [\d.]+ s \(\d+ jobs\/s\): \d+ completed, \d+ dead after 3 attempts/,
    );
    assert.match(r.stdout, /^QUEUE\s+WAITING\s+PENDING\s+DELAYED\s+RESERVED\s+COMPLETED\s+DEAD\s+TOTAL/m);
    assert.match(r.stdout, /spool stats spool-demo\.db/);
    assert.match(r.stdout, /spool dashboard spool-demo\.db/);

    const db = join(cwd, "spool-demo.db");
    assert.ok(existsSync(db));
    const s = await Spool.open(db);
    const sizes = await Promise.all((await s.queues()).map((q) => s.queue(q).size()));
    await s.close();
    const sum = (k: "pending" | "delayed" | "reserved" | "completed" | "dead") =>
      sizes.reduce((n, size) => n + size[k], 0);
    assert.deepEqual([sum("pending"), sum("delayed"), sum("reserved")], [0, 0, 0]);
    assert.equal(sum("completed") + sum("dead"), 3000);
    assert.ok(sum("dead") > 0, "some jobs ended in the dead-letter state");
  });

  test("a second run starts afresh, and --json summarises", async () => {
    const cwd = tempDir();
    assert.equal((await spool(["demo", "--jobs", "200"], { cwd })).code, 0);
    const r = await spool(["demo", "--jobs", "300", "--json"], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      jobs: number;
      completed: number;
      dead: number;
      queues: Record<string, { total: number }>;
    };
    assert.equal(doc.jobs, 300);
    assert.equal(doc.completed + doc.dead, 300);
    // Only this run's jobs are in the database: the earlier one was deleted first.
    assert.equal(
      Object.values(doc.queues).reduce((n, q) => n + q.total, 0),
      300,
    );
  });
});
