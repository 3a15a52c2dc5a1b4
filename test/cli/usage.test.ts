// Bad usage exits 2 with a message that says what would be right; help exits 0.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { spool, tempDir } from "./helpers.js";

const COMMANDS = [
  "demo",
  "add",
  "stats",
  "list",
  "retry",
  "purge",
  "export",
  "import",
  "work",
  "dashboard",
  "bench",
];

describe("spool --help and usage errors", () => {
  let db = "";
  before(async () => {
    db = join(tempDir(), "jobs.db");
    const s = await Spool.open(db);
    await s.queue("q").add({ n: 1 });
    await s.close();
  });

  test("spool --help exits 0 and lists every command", async () => {
    const r = await spool(["--help"]);
    assert.equal(r.code, 0);
    for (const name of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name}\\b`, "m"), name);
  });

  test("every command has --help with examples, exit 0", async () => {
    for (const name of COMMANDS) {
      const r = await spool([name, "--help"]);
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`Usage: spool ${name}`), name);
      assert.match(r.stdout, /Examples:\n\s+\$ spool /, name);
    }
  });

  test("spool with no command shows help on stderr and exits 2", async () => {
    const r = await spool([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: spool/);
  });

  test("an unknown command exits 2, suggesting the near one", async () => {
    const r = await spool(["stat", db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'stat'/);
    assert.match(r.stderr, /Did you mean stats\?/);
  });

  const cases: [string, string[], RegExp][] = [
    ["an unknown option", ["stats", "DB", "--bogus"], /unknown option '--bogus'/],
    ["a missing argument", ["list", "DB"], /missing required argument 'queue'/],
    ["a bad number", ["list", "DB", "q", "--limit", "ten"], /"ten" is not a whole number of 1 or more/],
    ["a zero limit", ["list", "DB", "q", "--limit", "0"], /"0" is not a whole number of 1 or more/],
    [
      "a bad state",
      ["list", "DB", "q", "--state", "done"],
      /"done" is not a job state; use one of waiting, pending/,
    ],
    [
      "a bad duration",
      ["purge", "DB", "q", "--state", "dead", "--older-than", "soon"],
      /use e\.g\. 500ms, 30s/,
    ],
    ["purge without --state", ["purge", "DB", "q"], /required option '--state <state>' not specified/],
    [
      "purge of a live state",
      ["purge", "DB", "q", "--state", "pending"],
      /Allowed choices are completed, dead/,
    ],
    ["retry with neither ids nor --all", ["retry", "DB", "q"], /job ids .* or --all/],
    ["retry with ids and --all", ["retry", "DB", "q", "1", "--all"], /not both/],
    ["retry with a bad id", ["retry", "DB", "q", "x1"], /job id "x1" is not a whole number/],
    ["a payload that is not JSON", ["add", "DB", "q", "hello"], /is not JSON; give a JSON value/],
    ["a bad priority", ["add", "DB", "q", "1", "--priority", "high"], /"high" is not an integer/],
    [
      "a bad concurrency",
      ["work", "DB", "q", "h.mjs", "--concurrency", "-2"],
      /not a whole number of 1 or more/,
    ],
    ["a bad port", ["dashboard", "DB", "--port", "99999"], /is not a port/],
    ["an invalid queue name", ["list", "DB", "bad name!"], /INVALID_NAME/],
    [
      "--schema on a SQLite file",
      ["stats", "DB", "--schema", "app"],
      /--schema applies to postgres:\/\/ targets only/,
    ],
    [
      "a malformed postgres URL",
      ["stats", "postgres://:x:y@[bad"],
      /is not a valid postgres URL; use postgres:\/\/user@host:5432\/dbname/,
    ],
    ["an exposed dashboard without a token", ["dashboard", "DB", "--host", "0.0.0.0"], /give --token/],
  ];
  for (const [what, args, message] of cases) {
    test(`${what} exits 2 with a message`, async () => {
      const r = await spool(
        args.map((a) => (a === "DB" ? db : a)),
        { env: { SPOOL_DASHBOARD_TOKEN: undefined } },
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  test("a postgres password is never echoed", async () => {
    // Port 1 refuses at once: a runtime failure whose message quotes the target.
    const r = await spool(["stats", "postgres://app:hunter2@127.0.0.1:1/db"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/db/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
  });

  test("--version prints the package version", async () => {
    const r = await spool(["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
