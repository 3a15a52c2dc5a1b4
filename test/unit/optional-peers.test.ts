// prom-client and @opentelemetry/api are optional peers: the main entry never loads them, and
// without them everything but spool/prometheus works (the dashboard's /metrics says why not).
// Run on the built package in a child process whose module resolution refuses both.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";

const helpers = new URL("../helpers/", import.meta.url);

test("without prom-client and @opentelemetry, the main entry, a worker and metrics work; /metrics is 501", {
  timeout: 60_000,
}, () => {
  const out = execFileSync(
    process.execPath,
    ["--import", new URL("refuse-peers.mjs", helpers).pathname, new URL("no-peers.mjs", helpers).pathname],
    { encoding: "utf8" },
  );
  const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  assert.equal(result.promClient, "ERR_MODULE_NOT_FOUND", "the hook hides prom-client");
  assert.equal(result.completed, 1);
  assert.equal(result.scrape.status, 501);
  assert.match(result.scrape.body, /prom-client/);
});
