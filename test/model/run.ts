/*
 * Runs the model test on one backend for a time budget: fast-check generates command sequences,
 * runs each on a fresh store beside a fresh model, and on a failure shrinks it and reports the
 * seed, the path and the shrunk commands, with the command that replays it:
 *   SPOOL_MODEL_KNOWN=<the known set then> SPOOL_MODEL_SEED=<seed> SPOOL_MODEL_PATH=<path>
 *   [SPOOL_MODEL_REPLAY=<replayPath>] node --import tsx --test test/model/sqlite.test.ts
 * The budget: SPOOL_MODEL_MS, else SPOOL_SOAK_MS (the soak), else the `npm test` default.
 */
import { appendFileSync } from "node:fs";
import type { TestContext } from "node:test";
import fc from "fast-check";
import type { BackendFixture } from "../conformance/harness.js";
import { type Ctx, commandArbs, stats } from "./commands.js";
import { activeKnown } from "./known.js";
import { Model } from "./model.js";
import { closeAll, handleSpecs, openSpool, type Real } from "./world.js";

/** Runs per seed: a replayed path is relative to its seed, so this never changes. */
const RUNS_PER_SEED = 5;
/** A fixed, realistic start for the controlled clock. */
const START = 1_767_225_600_000;

export function budget(defaultMs: number): number {
  const raw = process.env.SPOOL_MODEL_MS ?? process.env.SPOOL_SOAK_MS;
  return raw === undefined || raw === "" ? defaultMs : Number(raw);
}

export async function runModel(t: TestContext, fixture: BackendFixture, budgetMs: number): Promise<void> {
  const exactTime = fixture.kind === "sqlite";
  const ctx: Ctx = {
    spools: fixture.persistent ? 2 : 1,
    exactTime,
    postgres: fixture.kind === "postgres",
    specs: handleSpecs(exactTime),
  };
  const replayPath = process.env.SPOOL_MODEL_REPLAY || undefined;
  const cmds = fc.commands(commandArbs(ctx), {
    // A soak can afford longer sequences (longer chains, e.g. retry then a stale holder).
    maxCommands: process.env.SPOOL_SOAK_MS ? 100 : 50,
    size: "max",
    ...(replayPath ? { replayPath } : {}),
  });
  const property = fc.asyncProperty(cmds, async (commands) => {
    const target = await fixture.newTarget();
    const real: Real = {
      target: target.target,
      // The model checks meaning, not fsync: a faster commit gives more runs per second.
      options: fixture.kind === "sqlite" ? { ...target.options, durability: "off" } : target.options,
      clock: exactTime ? { now: START } : null,
      specs: ctx.specs,
      spools: [],
      handles: [],
      chans: [],
      jobs: [],
    };
    try {
      for (let s = 0; s < ctx.spools; s++) await openSpool(real, s);
      const model = new Model(real.clock?.now ?? Date.now(), ctx.spools, {
        exactTime,
        persistent: fixture.persistent,
        tolerance: exactTime ? 0 : 5000,
      });
      model.ctxQueues = ctx.specs.map((h) => h.queue);
      await fc.asyncModelRun(() => ({ model, real }), commands);
    } finally {
      await closeAll(real);
      await target.cleanup();
    }
  });

  const given = process.env.SPOOL_MODEL_SEED;
  const known = activeKnown().join(", ");
  if (given !== undefined && given !== "") {
    const path = process.env.SPOOL_MODEL_PATH || undefined;
    t.diagnostic(`replaying seed ${given}${path ? ` path ${path}` : ""} (known open: ${known})`);
    await check(
      property,
      { seed: Number(given), numRuns: RUNS_PER_SEED, ...(path ? { path } : {}) },
      fixture,
    );
    return;
  }
  const deadline = Date.now() + budgetMs;
  const base = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  let seeds = 0;
  do {
    const seed = (base + seeds * 7919) | 0;
    seeds += 1;
    // A soak that overruns its budget is killed by the test timeout without a word: the trace
    // file names the seed that was running.
    if (process.env.SPOOL_MODEL_TRACE)
      appendFileSync(
        process.env.SPOOL_MODEL_TRACE,
        `${new Date().toISOString()} ${fixture.name} seed ${seed}\n`,
      );
    await check(property, { seed, numRuns: RUNS_PER_SEED }, fixture);
  } while (Date.now() < deadline);
  if (process.env.SPOOL_MODEL_STATS) {
    for (const [k, v] of [...stats].sort()) t.diagnostic(`${k}: ${v}`);
  }
  t.diagnostic(
    `${fixture.name}: ${seeds} seeds × ${RUNS_PER_SEED} runs passed, from seed ${base} (known open: ${known})`,
  );
}

/** fc.check, failing with the seed, the shrunk commands, the error and how to replay it. */
async function check(
  property: fc.IAsyncProperty<[Iterable<unknown>]>,
  params: fc.Parameters<[Iterable<unknown>]>,
  fixture: BackendFixture,
): Promise<void> {
  const details = await fc.check(property, params);
  if (!details.failed) return;
  const e = details.errorInstance;
  const error =
    e instanceof Error ? (e.name === "ModelError" ? e.message : (e.stack ?? e.message)) : String(e);
  const shown = details.counterexample === null ? "" : String(details.counterexample[0]);
  const replay = /replayPath="([^"]*)"/.exec(shown)?.[1];
  const file = fixture.kind === "postgres" ? "test/model/postgres.test.ts" : "test/model/sqlite.test.ts";
  throw new Error(
    [
      `model test failed on ${fixture.name} after ${details.numRuns} runs (shrunk ${details.numShrinks} times)`,
      `seed ${details.seed}, path "${details.counterexamplePath}"`,
      "shrunk command sequence:",
      ...shown
        .replace(/ \/\*replayPath=.*\*\/$/, "")
        .split(/,(?=s\d|clock)/)
        .map((c) => `  ${c}`),
      `error: ${error}`,
      `replay: SPOOL_MODEL_KNOWN="${activeKnown().join(",")}"${process.env.SPOOL_SOAK_MS ? ` SPOOL_SOAK_MS=${process.env.SPOOL_SOAK_MS}` : ""} SPOOL_MODEL_SEED=${details.seed} SPOOL_MODEL_PATH="${details.counterexamplePath}"${replay ? ` SPOOL_MODEL_REPLAY="${replay}"` : ""} node --import tsx --test --test-name-pattern="model: ${fixture.name}$" ${file}`,
    ].join("\n"),
  );
}
