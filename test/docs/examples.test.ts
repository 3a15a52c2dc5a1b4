// The docs' first example of each feature page runs as written: a page whose example no longer
// works with the code fails here, not in a user's first minute.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");

/** The first ```ts block of a docs page. */
function firstExample(page: string): string {
  const text = readFileSync(join(root, "docs", page), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(text);
  assert.ok(match?.[1], `docs/${page} has no ts example`);
  return match[1];
}

/** Runs an example with `spool` as this checkout's source and its files in a fresh directory. */
async function runExample(page: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "spool-example-"));
  try {
    const code = firstExample(page)
      .replaceAll('from "spool"', `from ${JSON.stringify(join(root, "src/index.ts"))}`)
      .replaceAll('"jobs.db"', JSON.stringify(join(dir, "jobs.db")));
    const file = join(dir, "example.mts");
    writeFileSync(file, code);
    const { stdout } = await run(process.execPath, ["--import", "tsx", file], { cwd: root, timeout: 60_000 });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("docs/dependencies.md: the fan-out/fan-in example runs and the parent sees three results", async () => {
  const out = await runExample("dependencies.md");
  assert.match(out, /^waiting$/m);
  assert.match(out, /7 \[ 'cat-320\.png', 'cat-640\.png', 'cat-1280\.png' \]/);
});
