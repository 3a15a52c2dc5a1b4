/*
 * `spool stats` over a store holding a queue name today's rules refuse (an older version or a
 * hand-made row could have written it): the name is shown, escaped, beside the others, and
 * the command never fails over it (issue 12), with --json and --watch alike.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Spool } from "../../src/index.js";
import { job } from "../helpers/new-job.js";
import { exited, seededTargets, spool, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
const T = { timeout: 120_000 };
const BAD = ["bad name!", "\u001b[2Jwipe"];

/** Writes one job into each refused name under the seam, beside a valid queue "fine". */
async function seed(s: Spool): Promise<void> {
  await s.queue("fine").add(1);
  for (const name of BAD) {
    await s.ctx.backend.enqueue(name, [job(1)]);
  }
  await s.close();
}

const targets = seededTargets(dir, "names", seed);

const raw = /[^\t\n\u0020-\u007e\u00a0-\uffff]/;

for (const target of targets) {
  describe(`spool stats with a refused queue name in the store (${target.name})`, () => {
    test("the table, --json and --watch show every queue and exit 0", T, async () => {
      const db = await target.seed();
      const table = await spool(["stats", db]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /bad name!/);
      assert.match(table.stdout, /\\x1b\[2Jwipe/);
      assert.match(table.stdout, /^fine\s+0\s+1\s/m);
      assert.match(table.stdout, /^\(all\)\s+0\s+3\s/m);
      assert.doesNotMatch(table.stdout + table.stderr, raw);

      const json = await spool(["stats", db, "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout) as { queues: Record<string, { pending: number }> };
      assert.deepEqual(Object.keys(doc.queues).sort(), [...BAD, "fine"].sort());
      assert.equal(doc.queues["bad name!"]?.pending, 1);
      assert.doesNotMatch(json.stdout, raw);

      const watcher = start(["stats", db, "--watch", "--json"]);
      const exit = exited(watcher);
      const line = await waitFor(
        "a frame",
        () => watcher.out.stdout.split("\n")[0]?.endsWith("}") && watcher.out.stdout.split("\n")[0],
      );
      watcher.kill("SIGINT");
      const r = await exit;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        Object.keys((JSON.parse(line as string) as typeof doc).queues).sort(),
        [...BAD, "fine"].sort(),
      );
    });
  });
}
