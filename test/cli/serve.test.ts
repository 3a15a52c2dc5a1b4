// The long-running commands: stats --watch and dashboard run until a signal, then exit 0.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { exited, start, tempDir, waitFor } from "./helpers.js";

const dir = tempDir();

async function makeDb(name: string): Promise<string> {
  const db = join(dir, name);
  const s = await Spool.open(db);
  await s.queue("mail").addBatch([1, 2, 3]);
  await s.close();
  return db;
}

describe("long-running commands", () => {
  test("stats --watch --json prints one document per refresh and follows changes until SIGINT", async () => {
    const db = await makeDb("watch.db");
    const child = start(["stats", db, "--watch", "--interval", "100ms", "--json"]);
    const lines = () => child.out.stdout.split("\n").filter(Boolean);
    await waitFor("a first refresh", () => lines().length >= 1);
    const s = await Spool.open(db);
    await s.queue("mail").add(4);
    await s.close();
    await waitFor("the new job seen", () =>
      lines().some(
        (l) => (JSON.parse(l) as { queues: { mail: { pending: number } } }).queues.mail.pending === 4,
      ),
    );
    child.kill("SIGINT");
    const r = await exited(child);
    assert.equal(r.code, 0, r.stderr);
    for (const line of lines()) assert.match(JSON.parse(line).at, /^\d{4}-\d\d-\d\dT/);
  });

  test("stats --watch off a terminal prints a plain table per refresh", async () => {
    const db = await makeDb("watch2.db");
    const child = start(["stats", db, "--watch", "--interval", "100ms"]);
    await waitFor("two refreshes", () => (child.out.stdout.match(/^QUEUE/gm) ?? []).length >= 2);
    child.kill("SIGTERM");
    const r = await exited(child);
    assert.equal(r.code, 0);
    assert.ok(!r.stdout.includes("\u001b["), "no cursor movement off a terminal");
    assert.match(r.stdout, /^mail\s+0\s+3\s+/m);
  });

  test("dashboard serves on the port given and stops on SIGINT", async () => {
    const db = await makeDb("dash.db");
    const child = start(["dashboard", db, "--port", "0"]);
    const url = await waitFor(
      "the URL printed",
      () => /at (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(child.out.stdout)?.[1],
    );
    const response = await fetch(url);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    child.kill("SIGINT");
    const r = await exited(child);
    assert.equal(r.code, 0, r.stderr);
  });
});
