// `npm test`: builds (CLI tests spawn the built binary), then runs every test file with Node's
// own test runner, TypeScript loaded through tsx. Extra arguments narrow the files run.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/**
 * The files that take longest, started first: two at a time, a long file started last kept one
 * runner busy alone at the end (the PostgreSQL conformance file alone is about four minutes; the
 * CLI memory and retention files wait on 320 MB of payloads and on a minute-long negative).
 */
const LONGEST_FIRST = [
  "test/postgres/conformance.test.ts",
  "test/cli/memory.test.ts",
  "test/cli/queue-settings.test.ts",
  "test/cli/passwords.test.ts",
];

const filters = process.argv.slice(2);
const found = findTests("test").filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const rank = (f) => {
  const at = LONGEST_FIRST.indexOf(f.split("\\").join("/"));
  return at === -1 ? LONGEST_FIRST.length : at;
};
const files = [...found].sort((a, b) => rank(a) - rank(b));
// Which Node runs the suite: CI runs it on several (scripts/node-version.sh), and a log must say
// which one it is.
console.log(
  `spool tests: Node ${process.version} (${process.execPath}), ${files.length} test file${files.length === 1 ? "" : "s"}, PostgreSQL ${process.env.SPOOL_PG_URL ? "on" : "off (no SPOOL_PG_URL)"}`,
);
if (!process.env.SPOOL_SKIP_BUILD) execFileSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
