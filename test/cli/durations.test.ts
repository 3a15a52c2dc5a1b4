/*
 * Durations on the command line (issue 12): a fraction of a millisecond is rounded up, as the
 * library rounds its durations, never down to 0 and then refused as "got 0"; a duration that is
 * refused (0, or a lease too short to renew) is reported quoting the text as given.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { exited, spool, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();
const T = { timeout: 60_000 };

describe("CLI durations", () => {
  test("--timeout 0.2ms is accepted; --lease 0.4 and 0s are refused quoting the input", T, async () => {
    const db = join(dir, "d.db");
    const handler = join(dir, "ok.mjs");
    writeFileSync(handler, 'export default async function () { return "ok"; }\n');
    assert.equal((await spool(["add", db, "q", "1"])).code, 0);
    const worker = start(["work", db, "q", handler, "-v", "--timeout", "0.2ms"]);
    const exit = exited(worker);
    // The worker runs: it handles the job (completed, or failed by so short a timeout).
    await waitFor(
      "the job to be handled",
      () => worker.exitCode !== null || /job 1 |failed/.test(worker.out.stderr),
    );
    worker.kill("SIGTERM");
    const r = await exit;
    assert.doesNotMatch(r.stderr, /got 0|INVALID_ARGUMENT/, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    const lease = await spool(["work", db, "q", handler, "--lease", "0.4"]);
    assert.equal(lease.code, 2, lease.stderr);
    assert.match(lease.stderr, /--lease "0\.4"/);
    assert.doesNotMatch(lease.stderr, /got 0/);
    for (const [flag, text] of [
      ["--lease", "0s"],
      ["--timeout", "0"],
      ["--lease", "0.0ms"],
    ] as const) {
      const r = await spool(["work", db, "q", handler, flag, text]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(`'${text}'`) || r.stderr.includes(`"${text}"`), r.stderr);
      assert.doesNotMatch(r.stderr, /got 0/);
    }
  });
});
