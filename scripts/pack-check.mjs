// The package a user installs is the package we test: packs dist/ (build first) as npm would
// publish it, checks what the tarball holds and weighs, lints it with publint and Are the Types
// Wrong?, then installs it into a fresh project outside the repository (so nothing resolves from
// the repository's node_modules) and uses it there as a user would: the CLI, `import`,
// `require`, `spool/postgres` with and without `pg`, and the published types under tsc.
//
//   npm run build && node scripts/pack-check.mjs      (or: npm run pack-check)
//
// SPOOL_PG_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test);
// the check works in a schema of its own and drops it. SPOOL_PACK_KEEP=1 keeps the temporary
// directory for a look. Needs the npm registry (better-sqlite3, pg and @types/node are
// installed there, through npm's cache).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PG_URL = process.env.SPOOL_PG_URL || "postgres://postgres@127.0.0.1:5432/test";

/**
 * Size budget of the tarball: about 20% above what it weighs with the docs the README links
 * (0.1.0 without them: 184 kB packed, 614 kB unpacked).
 */
// Raised for schedules, limits, schemas and transactional adds (code and three doc pages): 335 kB packed, 1.17 MB unpacked.
// Raised for dependencies and flows, the node:sqlite driver and the runtimes page (code and two
// doc pages): 373 kB packed, 1.30 MB unpacked.
const BUDGET = { packed: 430_000, unpacked: 1_500_000 };

/** What may ship besides dist/: npm adds package.json, README and LICENSE itself. */
const TOP_LEVEL = new Set(["package.json", "README.md", "LICENSE", "CHANGELOG.md"]);

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const started = Date.now();
let failures = 0;

function step(name, fn) {
  const t = Date.now();
  try {
    const note = fn();
    console.log(`ok   ${name}${note ? `: ${note}` : ""} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failures++;
    console.log(`FAIL ${name}\n     ${String(error?.message ?? error).replaceAll("\n", "\n     ")}`);
  }
}

function fail(message) {
  throw new Error(message);
}

/**
 * How long a command may run before it is killed and its step fails: a step that hangs (once, a
 * script that kept a PostgreSQL connection open) must fail CI, not stall it. Installs compile
 * better-sqlite3 where no prebuilt binary downloads (about five minutes on Node 24 here).
 */
const RUN_TIMEOUT_MS = 3 * 60_000;
const INSTALL_TIMEOUT_MS = 20 * 60_000;

/** Runs a command; throws with its output when it exits non-zero or overstays. Returns stdout. */
function run(command, args, options = {}) {
  const timeout = options.timeout ?? RUN_TIMEOUT_MS;
  const result = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    timeout,
    killSignal: "SIGKILL",
    env: { ...cleanEnv, ...options.env },
  });
  if (result.error?.code === "ETIMEDOUT") {
    fail(
      `${command} ${args.join(" ")} still ran after ${timeout / 1000} s: killed\n${result.stdout}${result.stderr}`.trim(),
    );
  }
  if (result.error) throw result.error;
  if (result.status !== 0) {
    fail(
      `${command} ${args.join(" ")} exited ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`.trim(),
    );
  }
  return result.stdout;
}

// Nothing from the repository's environment may help the installed package resolve.
const cleanEnv = { ...process.env };
for (const key of ["NODE_PATH", "NODE_OPTIONS", "INIT_CWD", "npm_config_prefix"]) delete cleanEnv[key];
for (const key of Object.keys(cleanEnv)) if (key.startsWith("npm_package_")) delete cleanEnv[key];

if (!existsSync(join(ROOT, "dist/index.js"))) {
  console.error("pack-check: dist/ is missing: run `npm run build` first");
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "spool-pack-"));
const app = join(work, "app");
mkdirSync(app);
const node = process.execPath;

// ---- the tarball ----------------------------------------------------------------------------

let tarball = "";
let files = [];
step("npm pack", () => {
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], { cwd: ROOT }));
  tarball = join(work, packed.filename);
  files = packed.files.map((f) => f.path);
  if (packed.size > BUDGET.packed || packed.unpackedSize > BUDGET.unpacked) {
    fail(
      `over the size budget: ${packed.size} B packed (budget ${BUDGET.packed}), ` +
        `${packed.unpackedSize} B unpacked (budget ${BUDGET.unpacked})`,
    );
  }
  return (
    `${packed.filename}, ${packed.entryCount} files, ${(packed.size / 1000).toFixed(1)} kB packed ` +
    `(budget ${BUDGET.packed / 1000}), ${(packed.unpackedSize / 1000).toFixed(1)} kB unpacked (budget ${BUDGET.unpacked / 1000})`
  );
});
if (tarball === "") process.exit(1);

step("contents: only what a user needs", () => {
  const shipped = new Set(files);
  const isDoc = (f) => /^docs\/[^/]+\.md$/.test(f) || /^docs\/benchmarks\/[^/]+\.svg$/.test(f);
  const stray = files.filter((f) => !TOP_LEVEL.has(f) && !f.startsWith("dist/") && !isDoc(f));
  if (stray.length > 0) fail(`files outside dist/ and docs/: ${stray.join(", ")}`);
  // Every relative link of the shipped README and docs reaches a shipped file: a reader of the
  // installed package (or of its page on the registry) follows them.
  for (const doc of files.filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(ROOT, doc), "utf8");
    for (const [, link] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/i.test(link)) continue;
      const target = join(dirname(doc), link).split(sep).join("/");
      if (!shipped.has(target)) fail(`${doc} links ${link}, which is not shipped`);
    }
  }
  const missing = [...TOP_LEVEL].filter((f) => !shipped.has(f));
  if (missing.length > 0) fail(`missing: ${missing.join(", ")}`);
  // Source maps would point at src/, which is not published.
  const maps = files.filter((f) => f.endsWith(".map"));
  if (maps.length > 0) fail(`source maps without their sources: ${maps.slice(0, 5).join(", ")}…`);
  const tests = files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s$/.test(f));
  if (tests.length > 0) fail(`tests: ${tests.join(", ")}`);
  // dist/bench ships because `spool bench` runs it (src/cli/commands/bench.ts); the peer
  // benchmark harness (bench/ at the root) does not.
  if (!shipped.has("dist/bench/quick.js")) fail("dist/bench/quick.js, which `spool bench` loads, is missing");
  // Every export, the bin, and every relative import inside the package resolves to a shipped file.
  const targets = [
    pkg.bin.spool,
    ...Object.values(pkg.exports).flatMap((t) => (typeof t === "string" ? [t] : Object.values(t))),
  ];
  for (const target of targets)
    if (!shipped.has(target.replace(/^\.\//, ""))) fail(`${target} is not shipped`);
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const file of files.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const [, spec] of text.matchAll(specifier)) {
      let target = join(dirname(file), spec).split(sep).join("/");
      if (file.endsWith(".d.ts")) target = target.replace(/\.js$/, ".d.ts");
      if (!shipped.has(target)) fail(`${file} imports ${spec}, which is not shipped`);
    }
  }
  return `${files.length} files: package.json, README.md, LICENSE, CHANGELOG.md, docs/ and dist/ (no maps, no tests; every doc link shipped)`;
});

step("publint --strict", () => {
  run(join(ROOT, "node_modules/.bin/publint"), ["run", tarball, "--strict"], { cwd: work });
});

// ESM only: node10 predates "exports" (it cannot see the subpaths), and node16-from-CJS reports
// any ESM package as "dynamic import only" (attw's TypeScript predates require(esm)); the
// require check below runs the real thing.
step("attw --profile esm-only", () => {
  run(join(ROOT, "node_modules/.bin/attw"), [tarball, "--profile", "esm-only", "--format", "ascii"], {
    cwd: work,
  });
});

// ---- a fresh project ------------------------------------------------------------------------

step("the project resolves nothing from outside itself", () => {
  if (!relative(ROOT, app).startsWith("..")) fail(`${app} is inside the repository`);
  for (let dir = dirname(app); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules"))) fail(`${join(dir, "node_modules")} is above the project`);
    if (dirname(dir) === dir) break;
  }
  return app;
});

writeFileSync(
  join(app, "package.json"),
  `${JSON.stringify({ name: "pack-check-app", private: true, type: "module" }, null, 2)}\n`,
);
const npmInstall = (...specs) =>
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...specs], {
    cwd: app,
    timeout: INSTALL_TIMEOUT_MS,
  });
const installed = join(app, "node_modules/spool");

step("npm install <tarball>", () => {
  npmInstall(tarball);
  const version = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version;
  if (version !== pkg.version) fail(`installed spool ${version}, packed ${pkg.version}`);
  return `spool ${version} with better-sqlite3 ${JSON.parse(readFileSync(join(app, "node_modules/better-sqlite3/package.json"), "utf8")).version}`;
});

/** Writes `name` into the project and runs it with node; returns its last stdout line, parsed. */
function script(name, source, nodeArgs = []) {
  writeFileSync(join(app, name), source);
  const out = run(node, [...nodeArgs, name], { cwd: app })
    .trim()
    .split("\n");
  return JSON.parse(out[out.length - 1] ?? "null");
}

step("npx spool --version, npx spool demo", () => {
  const version = run("npx", ["--no-install", "spool", "--version"], { cwd: app }).trim();
  if (version !== pkg.version) fail(`spool --version printed ${version}`);
  const summary = JSON.parse(
    run("npx", ["--no-install", "spool", "demo", "--jobs", "200", "--json"], { cwd: app }),
  );
  if (summary.completed + summary.dead !== 200 || summary.completed === 0) {
    fail(`the demo did not finish its jobs: ${JSON.stringify(summary)}`);
  }
  return `${summary.completed} completed, ${summary.dead} dead, ${summary.retries} retries`;
});

// One job through its whole life; the same body for import and require.
const LIFECYCLE = `
  const file = join(mkdtempSync(join(tmpdir(), "spool-pack-db-")), "jobs.db");
  const spool = await Spool.open(file);
  const queue = spool.queue("emails");
  const id = await queue.add({ to: "ada@example.com" });
  const job = await queue.reserve();
  if (job === null || job.id !== id || job.payload.to !== "ada@example.com") throw new Error("reserve gave " + JSON.stringify(job));
  await queue.complete(job);
  const info = await queue.get(id);
  await spool.close();
  let closed = "";
  await spool.queues().catch((e) => { closed = e instanceof SpoolError ? e.code : String(e); });
  rmSync(dirname(file), { recursive: true });
  console.log(JSON.stringify({ state: info.state, kind: spool.kind, closed, from: WHERE }));
`;

function checkLifecycle(result) {
  if (result.state !== "completed" || result.kind !== "sqlite" || result.closed !== "CLOSED") {
    fail(`unexpected: ${JSON.stringify(result)}`);
  }
  if (!result.from.startsWith(installed))
    fail(`"spool" resolved to ${result.from}, not the installed tarball`);
}

step('ESM: import { Spool } from "spool"', () => {
  const result = script(
    "esm.mjs",
    `import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Spool, SpoolError } from "spool";
const WHERE = fileURLToPath(import.meta.resolve("spool"));
${LIFECYCLE}`,
  );
  checkLifecycle(result);
  return "add, reserve, complete on a SQLite file";
});

// require(esm): on by default from Node 22.12 and 20.19; behind --experimental-require-module
// from 20.17; not at all before.
step('CommonJS: require("spool")', () => {
  const [major, minor] = process.versions.node.split(".").map(Number);
  let flags = [];
  let how = "require(esm) on by default";
  if (process.features.require_module !== true) {
    if (major === 20 && minor >= 17) {
      flags = ["--experimental-require-module"];
      how = "require(esm) behind --experimental-require-module on this Node";
    } else {
      return `skipped: Node ${process.versions.node} cannot require() an ES module (needs 20.19+ or 22.12+)`;
    }
  }
  const result = script(
    "cjs.cjs",
    `const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { dirname, join } = require("node:path");
const { Spool, SpoolError } = require("spool");
const WHERE = require.resolve("spool");
(async () => {
${LIFECYCLE}
})().catch((e) => { console.error(e); process.exit(1); });`,
    flags,
  );
  checkLifecycle(result);
  return `Node ${process.versions.node}, ${how}`;
});

// ---- PostgreSQL -----------------------------------------------------------------------------

const schema = `pack_check_${process.pid}_${Date.now().toString(36)}`;

step("spool/postgres without pg: a clear error", () => {
  if (existsSync(join(app, "node_modules/pg"))) fail("pg is installed already");
  const result = script(
    "no-pg.mjs",
    `import { SpoolError, Spool } from "spool";
import { openPostgres } from "spool/postgres";
const out = [];
for (const open of [() => openPostgres(${JSON.stringify(PG_URL)}, { schema: "${schema}" }), () => Spool.open(${JSON.stringify(PG_URL)})]) {
  try { await open(); out.push("opened"); } catch (e) { out.push({ spool: e instanceof SpoolError, code: e.code, message: e.message }); }
}
console.log(JSON.stringify(out));`,
  );
  for (const r of result) {
    if (r === "opened" || !r.spool || r.code !== "STORAGE" || !r.message.includes("npm install pg")) {
      fail(`expected a STORAGE SpoolError saying to install pg, got ${JSON.stringify(r)}`);
    }
  }
  return result[0].message;
});

step("spool/postgres with pg beside it", () => {
  const pgVersion = JSON.parse(readFileSync(join(ROOT, "node_modules/pg/package.json"), "utf8")).version;
  npmInstall(`pg@${pgVersion}`);
  const result = script(
    "pg.mjs",
    `import pg from "pg";
import { openPostgres } from "spool/postgres";
const url = ${JSON.stringify(PG_URL)};
const out = {};
try {
  const spool = await openPostgres(url, { schema: "${schema}" });
  const queue = spool.queue("emails");
  const id = await queue.add({ to: "ada@example.com" });
  await queue.add({ to: "bob@example.com" });
  const job = await queue.reserve();
  await queue.complete(job);
  out.kind = spool.kind;
  out.state = (await queue.get(id)).state;
  await spool.close();
} finally {
  // The CLI sees it through ?schema= before it goes.
  const { spawnSync } = await import("node:child_process");
  const target = url + (url.includes("?") ? "&" : "?") + "schema=${schema}";
  const stats = spawnSync("npx", ["--no-install", "spool", "stats", target, "--json"], { encoding: "utf8" });
  out.stats = stats.status === 0 ? JSON.parse(stats.stdout) : stats.stderr;
  const client = new pg.Client(url);
  await client.connect();
  await client.query('DROP SCHEMA IF EXISTS "${schema}" CASCADE');
  out.dropped = (await client.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", ["${schema}"])).rows[0].n === 0;
  await client.end();
}
console.log(JSON.stringify(out));`,
  );
  const emails =
    JSON.stringify(result.stats).includes('"completed":1') &&
    JSON.stringify(result.stats).includes('"pending":1');
  if (result.kind !== "postgres" || result.state !== "completed" || !emails || !result.dropped) {
    fail(`unexpected: ${JSON.stringify(result)}`);
  }
  return `pg ${pgVersion}, schema ${schema} (add, reserve, complete; \`spool stats <url>?schema=\` sees it), dropped`;
});

// ---- the published types ------------------------------------------------------------------

const CONSUMER = `import { Spool, SpoolError, Worker, type JobInfo, type Queue, type SpoolErrorCode, type SpoolOptions } from "spool";
import { openPostgres } from "spool/postgres";
import { dashboard, type DashboardOptions } from "spool/dashboard";

interface Email {
  to: string;
}

const CODES: SpoolErrorCode[] = ["CLOSED", "INVALID_ARGUMENT", "INVALID_NAME", "QUEUE_FULL", "PAYLOAD_TOO_LARGE",
  "ENCODE", "DECODE", "LEASE_LOST", "NOT_FOUND", "BUSY", "STORAGE"];
// @ts-expect-error not one of the codes
const NOT_A_CODE: SpoolErrorCode = "OOPS";

export async function use(target: string): Promise<JobInfo<Email> | null> {
  const options: SpoolOptions = { durability: "normal", busyTimeout: 1000 };
  const spool: Spool = target.startsWith("postgres") ? await openPostgres(target, options) : await Spool.open(target, options);
  const queue: Queue<Email> = spool.queue<Email>("emails", { lease: 30_000 });
  const id: number = await queue.add({ to: "ada@example.com" }, { priority: 5, maxAttempts: 3 });
  // @ts-expect-error the payload type is checked
  await queue.add({ to: 42 });
  const worker: Worker<Email> = queue.process(async (job, { signal }) => {
    if (!signal.aborted) job.payload.to.toUpperCase();
  });
  worker.on("failed", (job) => void job.id);
  await worker.stop({ timeout: 1000 });
  try {
    spool.queue("not a name!");
  } catch (error) {
    if (!(error instanceof SpoolError) || !CODES.includes(error.code)) throw error;
    const code: SpoolErrorCode = error.code;
    if (code === "INVALID_NAME") void error.message;
  }
  const page: DashboardOptions = { basePath: "/spool" };
  dashboard(spool, page).close();
  const info: JobInfo<Email> | null = await queue.get(id);
  const to: string | undefined = info?.payload.to;
  void to;
  void NOT_A_CODE;
  await spool.close();
  return info;
}
`;

// Installed after the runtime checks (which must not see it): @types/node is what a TypeScript user has; pg's types are
// not needed (the public types never name pg).
step("@types/node for the type checks", () => {
  npmInstall("--save-dev", "@types/node@20");
});

for (const [resolution, module] of [
  ["node16", "node16"],
  ["bundler", "preserve"],
]) {
  step(`tsc: the public types under moduleResolution ${resolution}`, () => {
    const dir = join(app, `ts-${resolution}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "use.ts"), CONSUMER);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module,
          moduleResolution: resolution,
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
        },
        files: ["use.ts"],
      }),
    );
    const listed = run(node, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir, "--listFiles"], {
      cwd: app,
    });
    const typescriptLib = realpathSync(join(ROOT, "node_modules/typescript/lib"));
    const outside = listed
      .split("\n")
      .filter((f) => f !== "" && !resolve(f).startsWith(app) && !resolve(f).startsWith(typescriptLib));
    if (outside.length > 0) fail(`types read from outside the project: ${outside.slice(0, 5).join(", ")}`);
    if (!listed.includes(join(installed, "dist/index.d.ts")))
      fail("spool's types did not come from the installed tarball");
    return `module ${module}, strict, skipLibCheck false; types from ${relative(work, join(installed, "dist"))}`;
  });
}

// ----------------------------------------------------------------------------------------------

if (process.env.SPOOL_PACK_KEEP === "1") console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures > 0) {
  console.log(`pack-check: ${failures} check(s) failed (${seconds} s)`);
  process.exit(1);
}
console.log(`pack-check: the packed tarball installs and works (${seconds} s)`);
