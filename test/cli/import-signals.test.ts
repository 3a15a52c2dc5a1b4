/*
 * `spool import` and a second signal (review 12): the first says at once that the lines read are
 * being committed; a second one, while that commit waits, exits with the signal's status and
 * says how to resume, rather than dying silently. A commit is kept waiting on PostgreSQL by a
 * lock the test holds on the jobs table (SQLite commits without yielding to signals).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { BIN, exited, type Output, waitFor } from "./helpers.js";

const base = process.env.SPOOL_PG_URL;
const record = (i: number) => `${JSON.stringify({ payload: { i } })}\n`;

describe("spool import and a second signal", { skip: !base }, () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    test(`a second ${signal} while a batch commits exits ${code} with the resume hint`, async (t) => {
      const schema = `spool_isig_${randomBytes(4).toString("hex")}`;
      const url = new URL(base as string);
      url.searchParams.set("schema", schema);
      await (await Spool.open(base as string, { schema })).close();
      const { default: pg } = await import("pg");
      const locker = new pg.Client({ connectionString: base });
      await locker.connect();
      const child = spawn(process.execPath, [BIN, "import", url.toString(), "q", "--batch-size", "2"], {
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["pipe", "pipe", "pipe"],
      }) as ReturnType<typeof spawn> & { out: Output };
      child.out = { stdout: "", stderr: "" };
      child.stderr?.setEncoding("utf8").on("data", (s: string) => {
        child.out.stderr += s;
      });
      child.stdout?.setEncoding("utf8").on("data", (s: string) => {
        child.out.stdout += s;
      });
      child.stdin?.on("error", () => {});
      const exit = exited(child);
      t.after(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        try {
          await locker.query("ROLLBACK").catch(() => {});
          // The killed import's session may still be finishing its insert on the server: a drop
          // racing it can be chosen as a deadlock's victim, and then simply tries again.
          await waitFor("the test schema to be dropped", async () => {
            try {
              await locker.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
              return true;
            } catch (error) {
              if ((error as { code?: string }).code === "40P01") return false;
              throw error;
            }
          });
        } finally {
          await locker.end(); // an open client would keep this test file from ever exiting
        }
      });
      const count = async () =>
        Number((await locker.query(`SELECT count(*) AS n FROM "${schema}".jobs`)).rows[0].n);
      // One batch committed: the import is under way.
      child.stdin?.write(record(1) + record(2));
      await waitFor("the first batch to commit", async () => (await count()) === 2);
      // The next batch's commit waits on the test's lock.
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`);
      child.stdin?.write(record(3) + record(4));
      await waitFor(
        "the import's insert to wait on the lock",
        async () =>
          Number(
            (
              await locker.query(
                "SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass",
                [`"${schema}".jobs`],
              )
            ).rows[0].n,
          ) > 0,
      );
      child.kill(signal);
      await waitFor("the first signal to be acknowledged", () =>
        child.out.stderr.includes("committing the lines"),
      );
      assert.match(
        child.out.stderr,
        new RegExp(`${signal}: committing the lines read so far \\(through line 4\\)`),
      );
      child.kill(signal);
      const r = await exit;
      assert.equal(r.code, code, `${r.code} ${r.signal} ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`stopped by a second ${signal}`));
      assert.match(
        r.stderr,
        /2 jobs were imported; resume with: spool import .* --skip 2 \(on the same input\)/,
      );
      assert.match(r.stderr, /lines 3–4, whose commit was under way, .* --skip 4 instead/);
    });
  }
});
