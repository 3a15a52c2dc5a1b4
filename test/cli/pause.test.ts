// `spool pause` / `spool resume`, and what `spool stats` and `spool list` show of pause and
// progress, on a SQLite file and (with SPOOL_PG_URL) a PostgreSQL schema.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { seededTargets, spool, tempDir } from "./helpers.js";

const dir = tempDir();

/** Opens what the CLI was given (a file, or a URL with ?schema=) as the library would. */
async function open(db: string): Promise<Spool> {
  if (!db.startsWith("postgres")) return Spool.open(db);
  const url = new URL(db);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return Spool.open(url.toString(), schema === undefined ? {} : { schema });
}

for (const target of seededTargets(dir, "pause", async (s) => {
  const q = s.queue("mail");
  await q.addBatch([{ to: "ada" }, { to: "bob" }, { to: "cy" }]);
  const job = await q.reserve({ lease: 600_000 });
  assert.ok(job);
  await q.progress(job, 40);
  const other = await q.reserve({ lease: 600_000 });
  assert.ok(other);
  await q.progress(other, { step: "render" });
  await s.close();
})) {
  describe(`spool pause, resume, stats and list (${target.name})`, () => {
    test("pause and resume change what every process sees; stats shows it", async () => {
      const db = await target.seed();
      const paused = await spool(["pause", db, "mail"]);
      assert.equal(paused.code, 0, paused.stderr);
      assert.equal(paused.stdout, "paused mail\n");
      const stats = await spool(["stats", db, "--json"]);
      assert.equal(stats.code, 0, stats.stderr);
      assert.equal(JSON.parse(stats.stdout).queues.mail.paused, true);
      const table = await spool(["stats", db]);
      assert.match(table.stdout, /PAUSED/);
      assert.match(table.stdout.split("\n").find((l) => l.startsWith("mail")) ?? "", /paused/);
      const s = await open(db);
      try {
        assert.equal(await s.queue("mail").isPaused(), true);
        assert.equal(await s.queue("mail").reserve(), null);
      } finally {
        await s.close();
      }
      const resumed = await spool(["resume", db, "mail", "--json"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(JSON.parse(resumed.stdout), { queue: "mail", paused: false });
      const after = await spool(["stats", db, "--json"]);
      assert.equal(JSON.parse(after.stdout).queues.mail.paused, false);
      const s2 = await open(db);
      try {
        assert.ok(await s2.queue("mail").reserve());
      } finally {
        await s2.close();
      }
    });

    test("list shows progress in a column and in --json", async () => {
      const db = await target.seed();
      const r = await spool(["list", db, "mail"], { env: { COLUMNS: "200" } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /PROGRESS/);
      assert.match(r.stdout, /40%/);
      assert.match(r.stdout, /\{"step":"render"\}/);
      const j = await spool(["list", db, "mail", "--json", "--limit", "3"]);
      assert.equal(j.code, 0, j.stderr);
      const jobs = JSON.parse(j.stdout) as Array<{ progress?: unknown }>;
      assert.deepEqual(
        jobs.map((x) => x.progress ?? null),
        [40, { step: "render" }, null],
      );
    });
  });
}

describe("spool pause usage errors", () => {
  test("a missing queue, a bad name or a missing file create nothing", async () => {
    const missing = join(dir, "never.db");
    const noQueue = await spool(["pause", missing]);
    assert.equal(noQueue.code, 2, noQueue.stderr);
    const badName = await spool(["resume", missing, "no spaces allowed"]);
    assert.equal(badName.code, 2, badName.stderr);
    const noFile = await spool(["pause", missing, "mail"]);
    assert.notEqual(noFile.code, 0);
    assert.equal(existsSync(missing), false, "no database was created");
  });
});
