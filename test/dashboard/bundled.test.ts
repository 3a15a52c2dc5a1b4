// The page script travels with the code: an application that bundles its server (esbuild, ncc,
// a serverless build) with spool/dashboard inside, and runs the bundle from another folder,
// still serves a working app.js (found by review: it answered 500 when the script was a file
// read beside the module). Runs against dist/, as a user's bundler sees the package.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { build } from "esbuild";

const run = promisify(execFile);
const dist = resolve("dist");

test("a server bundled with the dashboard inside serves the page script", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-bundled-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const entry = join(dir, "server.mjs");
  writeFileSync(
    entry,
    `import { Spool } from ${JSON.stringify(join(dist, "index.js"))};
import { startDashboard } from ${JSON.stringify(join(dist, "dashboard/server.js"))};
const spool = await Spool.open(":memory:");
const dashboard = await startDashboard(spool, { port: 0 });
const res = await fetch(new URL("app.js", dashboard.url));
console.log(JSON.stringify({ status: res.status, body: await res.text() }));
await dashboard.close();
await spool.close();
`,
  );
  const out = join(dir, "deploy");
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    external: ["better-sqlite3", "pg", "esbuild"],
    outfile: join(out, "server.mjs"),
    logLevel: "error",
  });
  // The deploy folder holds the bundle and the native driver only.
  symlinkSync(resolve("node_modules"), join(out, "node_modules"));
  const { stdout } = await run(process.execPath, [join(out, "server.mjs")], { cwd: out });
  const { status, body } = JSON.parse(stdout) as { status: number; body: string };
  assert.equal(status, 200, body);
  assert.ok(body.startsWith('"use strict";'), "the served script is not one strict-mode bundle");
  assert.ok(body.includes("textContent"), "the served script is not the dashboard's client");
});
