/*
 * The concurrency fuzz: producers and workers in separate processes on one store, killed,
 * stopped, paused and restarted at random, then drained and checked against the invariants of
 * docs/guarantees.md (see check.ts). `npm test` runs about 30 s per backend; with
 * SPOOL_SOAK_MS=<ms> it runs rounds of fresh seeds until that much time has passed;
 * SPOOL_FUZZ_SEED=<n> (and SPOOL_FUZZ_MS=<chaos ms>) replays one round.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { describe, type TestContext, test } from "node:test";
import { type BackendFixture, postgresFixture, sqliteFileFixture } from "../conformance/harness.js";
import { pgConfigured } from "../postgres/pg-helpers.js";
import { removeHistory, round } from "./run.js";

const soakMs = Number(process.env.SPOOL_SOAK_MS ?? 0);
const fixedSeed = process.env.SPOOL_FUZZ_SEED;
/** Faults last this long per round; the drain and the check add a few seconds. */
const chaosMs = Number(process.env.SPOOL_FUZZ_MS ?? (soakMs > 0 ? 30_000 : 15_000));
/** SPOOL_FUZZ_LEASE=<min>-<max> (ms) probes other leases than the default 500–1500 (500: the shortest worker lease). */
const [minLease, maxLease] = (process.env.SPOOL_FUZZ_LEASE ?? "500-1500").split("-").map(Number);
const leases = { min: minLease ?? 500, max: maxLease ?? minLease ?? 1500 };

async function fuzz(t: TestContext, backend: BackendFixture): Promise<void> {
  const until = Date.now() + soakMs;
  let rounds = 0;
  do {
    const seed = fixedSeed !== undefined ? Number(fixedSeed) : randomInt(2 ** 31);
    const replay = `SPOOL_FUZZ_SEED=${seed} SPOOL_FUZZ_MS=${chaosMs} SPOOL_FUZZ_LEASE=${leases.min}-${leases.max} node --import tsx --test test/fuzz/kill-fuzz.test.ts`;
    t.diagnostic(`${backend.name}: round ${rounds + 1}, seed ${seed} (replay: ${replay})`);
    const target = await backend.newTarget();
    try {
      const result = await round(target, seed, chaosMs, leases);
      const { verdict } = result;
      const summary = `seed ${seed}: faults ${JSON.stringify(result.faults)}, ms ${JSON.stringify(result.phases)}, ${JSON.stringify(verdict.stats)}`;
      t.diagnostic(summary);
      for (const note of verdict.notes.slice(0, 10)) t.diagnostic(`note: ${note}`);
      if (verdict.violations.length > 0) {
        assert.fail(
          [
            `kill fuzz on ${backend.name} broke ${verdict.violations.length} invariant(s), seed ${seed}`,
            `replay: ${replay}`,
            `history kept in ${result.dir}`,
            summary,
            ...verdict.violations.slice(0, 20),
          ].join("\n"),
        );
      }
      // A takeover with no SIGSTOP is allowed (the holder was starved) but worth a look: keep it.
      if (verdict.stats.overlapsStarved === 0) removeHistory(result);
      else t.diagnostic(`history of the starved takeover(s) kept in ${result.dir}`);
      rounds++;
    } finally {
      await target.cleanup();
    }
  } while (fixedSeed === undefined && Date.now() < until);
  console.log(`# kill fuzz, ${backend.name}: ${rounds} round(s) passed`);
}

const timeout = soakMs + chaosMs + 240_000;
describe("kill fuzz", () => {
  test("sqlite file: processes killed at random lose nothing and never share a lease", { timeout }, (t) =>
    fuzz(t, sqliteFileFixture()),
  );
  const url = process.env.SPOOL_PG_URL;
  if (pgConfigured("test/fuzz/kill-fuzz.test.ts") && url)
    test("postgres: processes killed at random lose nothing and never share a lease", { timeout }, (t) =>
      fuzz(t, postgresFixture(url)),
    );
});
