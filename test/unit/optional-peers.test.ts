// prom-client and @opentelemetry/api are optional peers: the main entry never loads them, and
// without them everything but spool/prometheus works (the dashboard's /metrics says why not).
// Run on the built package in a child process whose module resolution refuses both.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

test("with both installed, the main entry loads @opentelemetry/api only (at open), never prom-client", {
  timeout: 60_000,
}, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-peers-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "resolved.txt");
  const out = execFileSync(
    process.execPath,
    ["--import", new URL("refuse-peers.mjs", helpers).pathname, new URL("main-entry.mjs", helpers).pathname],
    { encoding: "utf8", env: { ...process.env, SPOOL_PEERS_LOG: log } },
  );
  assert.match(out, /done/);
  const resolved = new Set(readFileSync(log, "utf8").trim().split("\n"));
  assert.deepEqual([...resolved], ["@opentelemetry/api"]);
});
