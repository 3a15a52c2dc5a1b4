// The model test on PostgreSQL (the server's clock: durations kept far from any boundary).
import { test } from "node:test";
import { postgresFixture } from "../conformance/harness.js";
import { PG_URL, pgConfigured } from "../postgres/pg-helpers.js";
import { budget, runModel } from "./run.js";

const ms = budget(15_000);

if (pgConfigured("test/model/postgres.test.ts")) {
  test("model: postgres", { timeout: ms + 600_000 }, (t) =>
    runModel(t, postgresFixture(PG_URL as string), ms),
  );
}
