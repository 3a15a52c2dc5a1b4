/*
 * A database password never leaves the CLI (issue 12): in the user info (`user:pass@`, with
 * `@`, spaces or percent-escapes inside), in the query (`?password=`), or in a URL the parser
 * refuses, it is searched for in every output of every command: stdout, stderr, worker logs,
 * the dashboard's startup line and its JSON. Connection failures need no server (port 1); the
 * commands that work need SPOOL_PG_URL (the test server trusts local connections, so any
 * password connects).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { dropSchemas, exited, spool, start, tempDir, waitFor } from "./helpers.js";

const base = process.env.SPOOL_PG_URL;
const dir = tempDir();
const T = { timeout: 120_000 };

interface Form {
  name: string;
  /** The URL for host:port/db, with `schema` in its query. */
  url: (hostPortDb: string, schema: string) => string;
  /** Every spelling of the secret that must not appear. */
  secrets: string[];
}

const FORMS: Form[] = [
  {
    name: "user:pass@",
    url: (h, s) => `postgres://postgres:Plain-S3cret@${h}?schema=${s}`,
    secrets: ["Plain-S3cret"],
  },
  {
    name: "?password=",
    url: (h, s) => `postgres://postgres@${h}?password=Query-S3cret&schema=${s}`,
    secrets: ["Query-S3cret"],
  },
  {
    name: "@ inside the password",
    url: (h, s) => `postgres://postgres:At@S3cr@t@${h}?schema=${s}`,
    secrets: ["At@S3cr@t", "S3cr@t", "At%40S3cr"],
  },
  {
    name: "spaces inside the password",
    url: (h, s) => `postgres://postgres:Sp ace S3cret@${h}?schema=${s}`,
    secrets: ["Sp ace S3cret", "ace S3cret", "Sp%20ace"],
  },
  {
    name: "percent-encoded password and sslpassword",
    url: (h, s) => `postgres://postgres:Pct%2FS3cret%21@${h}?sslpassword=Ssl-S3cret&schema=${s}`,
    secrets: ["Pct%2FS3cret", "Pct/S3cret", "Ssl-S3cret"],
  },
  {
    name: "percent-encoded ?p%61ssword=",
    url: (h, s) => `postgres://postgres@${h}?p%61ssword=Enc-S3cret&schema=${s}`,
    secrets: ["Enc-S3cret"],
  },
  {
    name: "postgresql:// with the password in both places",
    url: (h, s) => `postgresql://postgres:Both-S3cret@${h}?password=Both-S3cret&schema=${s}`,
    secrets: ["Both-S3cret"],
  },
];

function assertHidden(form: Form, what: string, text: string): void {
  for (const secret of form.secrets) {
    assert.ok(!text.includes(secret), `${form.name}: ${what} shows ${JSON.stringify(secret)}:\n${text}`);
  }
}

describe("CLI passwords: connection failures", () => {
  for (const form of FORMS) {
    test(`${form.name}: an unreachable server's error hides the password`, T, async () => {
      const url = form.url("127.0.0.1:1/db", "s");
      for (const args of [
        ["stats", url],
        ["list", url, "q"],
        ["add", url, "q", "1"],
        ["export", url, "q"],
        ["dashboard", url, "--port", "0"],
        ["stats", url, "--nope"],
        ["list", url, "bad name!"],
      ]) {
        const r = await spool(args);
        assert.notEqual(r.code, 0);
        assertHidden(form, `${args[0]} ${args.slice(2).join(" ")}`, r.stdout + r.stderr);
      }
    });
  }

  test("a URL the parser refuses hides its password too", T, async () => {
    for (const [url, secret] of [
      ["postgres://postgres:Hash#S3cret@127.0.0.1:1/db", "Hash#S3cret"],
      ["postgres://postgres:Sl/ash-S3cret@127.0.0.1:1/db", "ash-S3cret"],
      ["postgres://postgres:Q?S3cret@host:99999/db", "S3cret"],
    ] as const) {
      const r = await spool(["stats", url]);
      assert.notEqual(r.code, 0);
      assert.ok(!(r.stdout + r.stderr).includes(secret), `${secret} shown:\n${r.stderr}`);
    }
  });
});

describe("CLI passwords: URLs only pg reads, user names holding anything (review12-01, -02)", () => {
  test(
    "no command shows the password, whatever the user name holds or the query key's spelling",
    T,
    async () => {
      for (const url of [
        "postgres://postgres@/db?host=127.0.0.1&port=1&p%61ssword=Enc-S3cret",
        "postgres://postgres@/db?host=127.0.0.1&port=1&%70%61%73%73%77%6F%72%64=Enc-S3cret",
        "postgres://ops@corp:At-S3cret@127.0.0.1:1x/db",
        "postgres://user name:Sp-S3cret@/db?host=127.0.0.1&port=1",
        "postgres://jürgen$(x)*=!:Odd-S3cret@/db?host=127.0.0.1&port=1",
        "ops@corp:NoScheme-S3cret@127.0.0.1:1/db",
        "postgres//ops@corp:Slash-S3cret@127.0.0.1:1/db",
        "first last:Space-S3cret@127.0.0.1:1/db",
      ]) {
        for (const args of [
          ["stats", url],
          ["list", url, "q"],
          ["add", url, "q", "1"],
          ["dashboard", url, "--port", "0"],
          ["list", url, "bad name!"],
        ]) {
          const r = await spool(args);
          assert.notEqual(r.code, 0);
          const out = r.stdout + r.stderr;
          assert.ok(!out.includes("S3cret"), `${args[0]} ${JSON.stringify(url)} shows the password:\n${out}`);
        }
      }
    },
  );
});

describe("CLI passwords: mistyped URLs", () => {
  test("a slightly mistyped URL never shows its password, whatever the command says of it", T, async () => {
    for (const [url, secret] of [
      [" postgres://u:hun ter2@127.0.0.1:1/db", "hun ter2"],
      ["postgres:/u:hunter2@127.0.0.1:1/db", "hunter2"],
      ["postgres//u:hunter2@127.0.0.1:1/db", "hunter2"],
      ["postgresql:u:hunter2@127.0.0.1:1/db", "hunter2"],
      ["u:hunter2@127.0.0.1:1/db", "hunter2"],
      ["postgres://u:123/word@127.0.0.1:1/db", "123/word"],
      ["postgres://u:123/word@127.0.0.1:1/db", "word@"],
    ] as const) {
      for (const args of [
        ["stats", url],
        ["list", url, "q"],
        ["add", url, "q", "1"],
        ["list", url, "bad name!"],
      ]) {
        const r = await spool(args);
        assert.notEqual(r.code, 0);
        const out = r.stdout + r.stderr;
        assert.ok(!out.includes(secret), `${args[0]} ${JSON.stringify(url)} shows ${secret}:\n${out}`);
      }
    }
  });
});

describe("CLI passwords: a short password", { skip: base ? false : "SPOOL_PG_URL is not set" }, () => {
  // "0" is shorter than any plain hiding; "1000" (review12-13) is a number Spool prints itself:
  // the count imported and the --skip of the hint are that very number.
  for (const [password, n] of [
    ["0", 30],
    ["1000", 1000],
  ] as const) {
    test(
      `password ${password} is hidden in the URL, and the import's resume hint keeps its numbers and works`,
      T,
      async () => {
        const b = new URL(base ?? "");
        const schema = `spool_cli_short_${randomBytes(4).toString("hex")}`;
        // The test server trusts local connections: any password connects.
        const url = `postgres://postgres:${password}@${b.host}${b.pathname}?schema=${schema}`;
        try {
          const lines = Array.from({ length: n }, (_, i) => `{"payload":${i}}\n`).join("");
          const input = `${lines}not json\n{"payload":${n}}\n`;
          const bad = await spool(["import", url, "q"], { input });
          assert.equal(bad.code, 1, bad.stderr);
          assert.match(bad.stderr, new RegExp(`\\b${n} jobs were imported.*--skip ${n}\\b`), bad.stderr);
          assert.ok(!bad.stderr.includes(`:${password}@`), bad.stderr);
          assert.doesNotMatch(bad.stderr, /\d\*\*\*|\*\*\*\d/, "no number of the message is cut by the mask");
          const stats = await spool(["stats", url, "--json"]);
          assert.equal(JSON.parse(stats.stdout).queues.q.pending, n);
          // The resume command as printed (with the real URL in place of the masked one) works.
          const skip = /--skip (\d+)/.exec(bad.stderr)?.[1];
          const resumed = await spool(["import", url, "q", "--skip", String(Number(skip) + 1)], { input });
          assert.equal(resumed.code, 0, resumed.stderr);
          assert.equal(JSON.parse((await spool(["stats", url, "--json"])).stdout).queues.q.pending, n + 1);
          // A worker's log keeps the handler's numbers too, and still hides the password.
          const handler = join(dir, `short-${schema}.mjs`);
          writeFileSync(
            handler,
            `export default async function () { throw new Error("gave up after ${n} tries"); }\n`,
          );
          const worker = start(["work", url, "q", handler]);
          const workerExit = exited(worker);
          await waitFor("the worker to log a failure", () => worker.out.stderr.includes("failed (attempt"));
          worker.kill("SIGINT");
          const log = (await workerExit).stderr;
          assert.ok(log.includes(`gave up after ${n} tries`), log);
          assert.ok(!log.includes(`:${password}@`), log);
        } finally {
          const { default: pg } = await import("pg");
          const client = new pg.Client({ connectionString: base });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await client.end();
        }
      },
    );
  }
});

describe("library passwords: URLs only pg reads (review12-01, -02)", {
  skip: base ? false : "SPOOL_PG_URL is not set",
}, () => {
  /** The test server's URL without a host: pg retries it with a dummy host and takes ?host=. */
  const hostless = (user: string, query: string) => {
    const b = new URL(base ?? "");
    return `postgres://${user}@${b.pathname}?host=${b.hostname}&port=${b.port || 5432}&${query}`;
  };

  test(
    "Spool.target, an open error and /api/overview hide a p%61ssword or a password after an odd user name",
    T,
    async () => {
      const schema = `spool_lib_pw_${randomBytes(4).toString("hex")}`;
      const url = hostless("postgres", `p%61ssword=Enc-S3cret&schema=${schema}`);
      const { Spool } = await import("../../src/index.js");
      const { startDashboard } = await import("../../src/dashboard/server.js");
      const spoolOf = await Spool.open(url);
      try {
        assert.ok(!spoolOf.target.includes("S3cret"), spoolOf.target);
        const dash = await startDashboard(spoolOf, { port: 0 });
        try {
          const overview = await (await fetch(new URL("api/overview", dash.url))).text();
          assert.match(overview, /"target":"postgres/);
          assert.ok(!overview.includes("S3cret"), overview);
        } finally {
          await dash.close();
        }
        // A role that does not exist: PostgreSQL's error quotes the user, Spool's names the target.
        for (const user of ["postgres!x:Role-S3cret", "ops@corp:Role-S3cret", "first last:Role-S3cret"]) {
          const error = await Spool.open(hostless(user, `schema=${schema}`)).then(
            async (s) => {
              await s.close();
              return new Error("opened");
            },
            (e: unknown) => e as Error,
          );
          assert.match(error.message, /does not exist|authentication/, error.message);
          assert.ok(!`${error.message} ${String(error.stack)}`.includes("S3cret"), error.message);
        }
      } finally {
        await spoolOf.close();
        const { default: pg } = await import("pg");
        const client = new pg.Client({ connectionString: base });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    },
  );
});

describe("CLI passwords: working commands", { skip: base ? false : "SPOOL_PG_URL is not set" }, () => {
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));

  for (const form of FORMS) {
    test(`${form.name}: no output of any command shows the password`, T, async () => {
      const b = new URL(base ?? "");
      const schema = `spool_cli_pw_${randomBytes(4).toString("hex")}`;
      schemas.push(schema);
      const url = form.url(`${b.host}${b.pathname}`, schema);
      const outputs: [string, string][] = [];
      const run = async (args: string[], input?: string) => {
        const r = await spool(args, input === undefined ? {} : { input });
        outputs.push([args.join(" "), r.stdout + r.stderr]);
        return r;
      };
      assert.equal((await run(["add", url, "q", '{"n":1}'])).code, 0, outputs.at(-1)?.[1]);
      assert.equal((await run(["stats", url])).code, 0);
      assert.equal((await run(["list", url, "q"])).code, 0);
      assert.equal((await run(["export", url, "q"])).code, 0);
      const bad = await run(["import", url, "q"], '{"payload":1}\nnot json\n');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--skip 1/);
      await run(["import", url, "q", "--skip", "-1"]);

      // A worker's log, and a handler error that quotes the URL it was given.
      const handler = join(dir, `pw-${schema}.mjs`);
      writeFileSync(
        handler,
        `export default async function () { throw new Error(${JSON.stringify(`cannot reach ${url}`)}); }\n`,
      );
      const worker = start(["work", url, "q", handler]);
      const workerExit = exited(worker);
      await waitFor("the worker to log a failure", () => worker.out.stderr.includes("failed (attempt"));
      worker.kill("SIGINT");
      const w = await workerExit;
      outputs.push(["work", w.stdout + w.stderr]);

      const watch = start(["stats", url, "--watch", "--interval", "100ms"]);
      const watchExit = exited(watch);
      await waitFor("a stats frame", () => watch.out.stdout.includes("QUEUE"));
      watch.kill("SIGINT");
      const st = await watchExit;
      outputs.push(["stats --watch", st.stdout + st.stderr]);

      const dash = start(["dashboard", url, "--port", "0"]);
      const dashExit = exited(dash);
      const at = await waitFor("the dashboard", () => /at (http:\S+\/)/.exec(dash.out.stdout)?.[1]);
      const overview = await (await fetch(`${at}api/overview`)).text();
      outputs.push(["dashboard /api/overview", overview]);
      assert.match(overview, /"target":"postgres/);
      dash.kill("SIGINT");
      const d = await dashExit;
      outputs.push(["dashboard", d.stdout + d.stderr]);

      for (const [what, text] of outputs) assertHidden(form, what, text);
    });
  }
});
