// `spool export` and `spool list --json` on a queue another process is working: every job is
// written exactly once, whatever states the jobs move between while the export reads.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { ndjson, spool, tempDir } from "./helpers.js";

const JOBS = 3000;
const dir = tempDir();

interface Target {
  name: string;
  open(): Promise<{ spool: Spool; args: string[]; cleanup(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: "sqlite",
    async open() {
      const db = join(dir, `live-${randomBytes(4).toString("hex")}.db`);
      return { spool: await Spool.open(db), args: [db], cleanup: async () => {} };
    },
  },
];
const pgUrl = process.env.SPOOL_PG_URL;
if (pgUrl)
  targets.push({
    name: "postgres",
    async open() {
      const schema = `spool_live_${randomBytes(4).toString("hex")}`;
      const s = await Spool.open(pgUrl, { schema });
      return {
        spool: s,
        args: [pgUrl, "--schema", schema],
        async cleanup() {
          const pg = (await import("pg")).default;
          const client = new pg.Client({ connectionString: pgUrl });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  });

/**
 * Moves jobs back and forth between pending, reserved, completed and dead until `done()`: each
 * round reserves a few, fails some back to pending, completes some and kills one; dead jobs are
 * retried. Every job stays in the queue (completed ones are kept), so the export must hold each.
 */
async function churn(spool: Spool, done: () => boolean): Promise<number> {
  const q = spool.queue("live");
  let moves = 0;
  while (!done()) {
    const jobs = await q.reserveBatch(8);
    for (const [i, job] of jobs.entries()) {
      if (i % 4 === 0) await q.complete(job);
      else if (i % 4 === 1) await q.fail(job, "gone", { retryIn: 0 });
      else await q.fail(job, "again", { retryIn: 0 });
      moves++;
    }
    if ((await q.retry()) > 0) moves++;
    if (jobs.length === 0) await new Promise((r) => setImmediate(r));
  }
  return moves;
}

for (const target of targets) {
  describe(`export and list --json on a live queue (${target.name})`, () => {
    for (const command of ["export", "list"] as const) {
      test(`${command} writes every job once while another process moves them`, async () => {
        const { spool: s, args, cleanup } = await target.open();
        try {
          // Kept completed jobs and a single attempt each, so failures go to dead and back.
          const q = s.queue("live", { maxAttempts: 1, retention: { completed: 3_600_000, dead: 3_600_000 } });
          await q.addBatch(Array.from({ length: JOBS }, (_, i) => ({ n: i })));
          let exporting = true;
          const moving = churn(s, () => !exporting);
          const cli = [command, args[0] as string, "live", ...args.slice(1)];
          const run = await spool(command === "list" ? [...cli, "--json", "--limit", String(JOBS * 2)] : cli);
          exporting = false;
          const moves = await moving;
          assert.equal(run.code, 0, run.stderr);
          const lines =
            command === "list" ? (JSON.parse(run.stdout) as { id: number }[]) : ndjson(run.stdout);
          const ids = lines.map((l) => l.id as number);
          assert.ok(moves > 0, "the queue changed during the export");
          assert.equal(new Set(ids).size, ids.length, "no job twice");
          assert.equal(ids.length, JOBS, "every job");
          assert.deepEqual(
            ids,
            [...ids].sort((a, b) => a - b),
            "in id order",
          );
        } finally {
          await s.close();
          await cleanup();
        }
      });
    }
  });
}
