// The model test on SQLite (a file, shared by two Spools; and :memory:), with a controlled clock.
import { test } from "node:test";
import { sqliteFileFixture, sqliteMemoryFixture } from "../conformance/harness.js";
import { budget, runModel } from "./run.js";

const ms = budget(12_000);

for (const fixture of [sqliteFileFixture(), sqliteMemoryFixture()]) {
  test(`model: ${fixture.name}`, { timeout: ms + 600_000 }, (t) =>
    runModel(t, fixture, fixture.persistent ? ms : ms / 2),
  );
}
