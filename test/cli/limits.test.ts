// What `spool stats` and `spool list` show of limits and groups, on a SQLite file and (with
// SPOOL_PG_URL) a PostgreSQL schema; and that export and import keep a job's group.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { seededTargets, spool, tempDir } from "./helpers.js";

const dir = tempDir();

/** Jobs as `list --json` shows them: call 1 was added to group tenant-a, call 2 to none. */
function assertGroups(jobs: Array<{ group?: string; payload: { call: number } }>): void {
  assert.ok(jobs.length >= 2);
  for (const job of jobs) assert.equal(job.group ?? null, job.payload.call === 1 ? "tenant-a" : null);
}

for (const target of seededTargets(dir, "limits", async (s) => {
  const limited = s.queue("api", {
    rateLimit: { max: 50, duration: 1000 },
    concurrency: 10,
    groupConcurrency: 1,
  });
  await limited.add({ call: 1 }, { group: "tenant-a" });
  await limited.add({ call: 2 });
  await s.queue("plain").add({ n: 1 });
  await s.close();
})) {
  describe(`spool stats and list show limits and groups (${target.name})`, () => {
    test("stats shows a queue's stored limits in a column and in --json", async () => {
      const db = await target.seed();
      const json = await spool(["stats", db, "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const queues = JSON.parse(json.stdout).queues;
      assert.deepEqual(queues.api.limits, {
        rateLimit: { max: 50, duration: 1000 },
        concurrency: 10,
        groupConcurrency: 1,
      });
      assert.equal(queues.plain.limits, undefined, "a queue without limits shows none");
      const table = await spool(["stats", db]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /LIMITS/);
      const api = table.stdout.split("\n").find((l) => l.startsWith("api")) ?? "";
      assert.match(api, /50\/1s, concurrency 10, 1 per group/);
    });

    test("list shows a job's group in a column and in --json", async () => {
      const db = await target.seed();
      const r = await spool(["list", db, "api"], { env: { COLUMNS: "200" } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /GROUP/);
      assert.match(r.stdout, /tenant-a/);
      const j = await spool(["list", db, "api", "--json"]);
      assert.equal(j.code, 0, j.stderr);
      assertGroups(JSON.parse(j.stdout));
    });

    test("export and import keep a job's group", async () => {
      const db = await target.seed();
      const exported = await spool(["export", db, "api"]);
      assert.equal(exported.code, 0, exported.stderr);
      const imported = await spool(["import", db, "copy"], { input: exported.stdout });
      assert.equal(imported.code, 0, imported.stderr);
      const j = await spool(["list", db, "copy", "--json"]);
      assertGroups(JSON.parse(j.stdout));
    });
  });
}
