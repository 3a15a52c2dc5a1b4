/*
 * The CLI and job dependencies (issue 17), on SQLite and PostgreSQL: stats counts waiting jobs,
 * list shows what a waiting job waits for (and `--state waiting` lists them), show prints a
 * job's dependencies with their queue and state, the JSON outputs carry dependsOn, and an
 * import refuses a waiting job rather than add it pending.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Spool } from "../../src/index.js";
import { ndjson, seededTargets, spool, tempDir } from "./helpers.js";

const dir = tempDir();
const T = { timeout: 120_000 };

/**
 * resize: jobs 1 and 2 (1 completed); publish: job 3 waits on 1 and 2, job 4 (payload with an
 * escape sequence) waits on 3 and 25 more resize jobs (5..29), job 30 is plain pending.
 */
async function seed(s: Spool): Promise<void> {
  const resize = s.queue("resize");
  const publish = s.queue("publish");
  const a = await resize.add({ img: 1 });
  const b = await resize.add({ img: 2 });
  const c = await publish.add({ post: 1 }, { dependsOn: [a, b] });
  const many = await resize.addBatch(Array.from({ length: 25 }, (_, i) => ({ i })));
  await publish.add({ evil: "\u001b]0;pwned\u0007" }, { dependsOn: [c, ...many] });
  await publish.add({ plain: true });
  const job = await resize.reserve();
  assert.equal(job?.id, a);
  if (job) await resize.complete(job, { width: 640 });
  await s.close();
}

const targets = seededTargets(dir, "deps", seed).map((t) => {
  // Seeded once per store: the tests only read it (the import writes to a store of its own).
  let made: Promise<string> | undefined;
  return { name: t.name, seed: () => (made ??= t.seed()) };
});
const raw = /[^\t\n\u0020-\u007e\u00a0-\uffff]/;

for (const target of targets) {
  describe(`spool and job dependencies (${target.name})`, () => {
    test("stats counts waiting jobs in a WAITING column and --json", T, async () => {
      const db = await target.seed();
      const r = await spool(["stats", db]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^QUEUE\s+WAITING\s+PENDING\s+DELAYED\s/);
      assert.match(r.stdout, /^publish\s+2\s+1\s+0\s+0\s+0\s+0\s+3\s/m);
      assert.match(r.stdout, /^resize\s+0\s+26\s+0\s+0\s+1\s+0\s+27\s/m);
      const j = await spool(["stats", db, "--json"]);
      const doc = JSON.parse(j.stdout) as { queues: Record<string, { waiting: number; pending: number }> };
      assert.equal(doc.queues.publish?.waiting, 2);
      assert.equal(doc.queues.resize?.waiting, 0);
    });

    test("list shows what waiting jobs wait for; --state waiting; --json carries dependsOn", T, async () => {
      const db = await target.seed();
      const r = await spool(["list", db, "publish"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ID\s+STATE\s+ATTEMPTS\s+PRIO\s+RUN AT\s+WAITS FOR\s+PAYLOAD$/m);
      // Job 3: job 1 completed, 2 still open.
      assert.match(r.stdout, /^\s*3\s+waiting\s.*\s2 \(1\/2 done\)\s/m);
      // Job 29 waits on 26 jobs: the first three open ids and how many more.
      assert.match(r.stdout, /^\s*29\s+waiting\s.*\s3, 4, 5 \+23 \(0\/26 done\)\s/m);
      assert.match(r.stdout, /^\s*30\s+pending\s/m);
      assert.doesNotMatch(r.stdout, raw, "the payload's escape sequence is shown, not sent");

      const w = await spool(["list", db, "publish", "--state", "waiting"]);
      assert.equal(w.code, 0, w.stderr);
      assert.deepEqual(
        w.stdout
          .trim()
          .split("\n")
          .slice(1)
          .map((l) => l.trim().split(/\s+/)[0]),
        ["3", "29"],
      );

      const j = await spool(["list", db, "publish", "--json"]);
      assert.equal(j.code, 0, j.stderr);
      const jobs = JSON.parse(j.stdout) as { id: number; state: string; dependsOn?: number[] }[];
      assert.deepEqual(
        jobs.map((x) => [x.id, x.state, x.dependsOn?.length ?? 0]),
        [
          [3, "waiting", 2],
          [29, "waiting", 26],
          [30, "pending", 0],
        ],
      );
      assert.deepEqual(jobs[0]?.dependsOn, [1, 2]);
      assert.doesNotMatch(j.stdout, raw);
    });

    test("show prints a job with each dependency's queue and state, the rest counted", T, async () => {
      const db = await target.seed();
      const r = await spool(["show", db, "publish", "3"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^state\s+waiting$/m);
      assert.match(r.stdout, /^depends on\s+2 job\(s\), 1 completed$/m);
      assert.match(r.stdout, /^\s+1\s+resize\s+completed$/m);
      assert.match(r.stdout, /^\s+2\s+resize\s+pending$/m);

      // 26 dependencies: 20 listed (3 in publish, the rest in resize), 6 counted.
      const big = await spool(["show", db, "publish", "29"]);
      assert.equal(big.code, 0, big.stderr);
      assert.match(big.stdout, /^\s+3\s+publish\s+waiting$/m);
      assert.match(big.stdout, /^\s+22\s+resize\s+pending$/m);
      assert.doesNotMatch(big.stdout, /^\s+23\s+resize/m);
      assert.match(big.stdout, /… and 6 more/);
      assert.match(big.stdout, /"evil":"\\u001b\]0;pwned\\u0007"/);
      assert.doesNotMatch(big.stdout, raw);

      const j = await spool(["show", db, "publish", "3", "--json"]);
      assert.equal(j.code, 0, j.stderr);
      const doc = JSON.parse(j.stdout) as {
        job: { id: number; state: string; dependsOn: number[] };
        dependencies: { total: number; done: number; items: unknown[] };
      };
      assert.deepEqual(doc.job.dependsOn, [1, 2]);
      assert.equal(doc.job.state, "waiting");
      assert.deepEqual(doc.dependencies, {
        total: 2,
        done: 1,
        items: [
          { id: 1, done: true, queue: "resize", state: "completed" },
          { id: 2, done: false, queue: "resize", state: "pending" },
        ],
      });

      const missing = await spool(["show", db, "publish", "999"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /job 999 is not in queue publish/);
      const bad = await spool(["show", db, "publish", "x"]);
      assert.equal(bad.code, 2);
    });

    test(
      "export writes dependsOn; import refuses a waiting job instead of adding it pending",
      T,
      async () => {
        const db = await target.seed();
        const e = await spool(["export", db, "publish"]);
        assert.equal(e.code, 0, e.stderr);
        const lines = ndjson(e.stdout);
        assert.deepEqual(lines[0]?.dependsOn, [1, 2]);
        assert.equal(lines[2]?.dependsOn, undefined);

        const into = `${dir}/import-${target.name}-${Date.now()}.db`;
        const r = await spool(["import", into, "publish"], { input: e.stdout });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /stdin line 1: a job that depends on other jobs \(1, 2\)/);
        assert.match(r.stderr, /--skip 0/);
        const after = JSON.parse((await spool(["stats", into, "--json"])).stdout) as {
          queues: Record<string, unknown>;
        };
        assert.equal(after.queues.publish, undefined, "nothing was added pending");

        // Dropping dependsOn is the way to add it pending on purpose; the waiting state alone is refused too.
        const stripped = lines
          .map(({ dependsOn: _, ...rest }) => JSON.stringify({ ...rest, state: "pending" }))
          .join("\n");
        const ok = await spool(["import", into, "publish", "--json"], { input: stripped });
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal((JSON.parse(ok.stdout) as { imported: number }).imported, 3);
        const noDeps = JSON.stringify({ ...lines[0], dependsOn: undefined });
        const w = await spool(["import", into, "publish"], { input: noDeps });
        assert.equal(w.code, 1);
        assert.match(w.stderr, /a waiting job without "dependsOn"/);
      },
    );
  });
}
