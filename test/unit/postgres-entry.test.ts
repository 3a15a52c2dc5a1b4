// `spool/postgres`: openPostgres opens only PostgreSQL URLs; anything else is refused before a
// file is created. (A missing `pg` is checked on the installed tarball: scripts/pack-check.mjs.)
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SpoolError } from "../../src/index.js";
import { openPostgres } from "../../src/postgres.js";

const PG_URL = process.env.SPOOL_PG_URL;

test("openPostgres refuses a target that is not a postgres URL, and creates nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spool-pg-entry-"));
  try {
    const file = join(dir, "jobs.db");
    for (const target of [file, ":memory:", "", 42]) {
      await assert.rejects(
        () => openPostgres(target as string),
        (error: unknown) => {
          assert.ok(error instanceof SpoolError);
          assert.equal(error.code, "INVALID_ARGUMENT");
          assert.match(error.message, /openPostgres needs a postgres:\/\/ or postgresql:\/\/ URL, got /);
          return true;
        },
      );
    }
    assert.equal(existsSync(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("openPostgres hides the password of a URL it refuses", async () => {
  await assert.rejects(
    () => openPostgres("mysql://app:hunter2@db/app"),
    (error: unknown) => error instanceof SpoolError && !error.message.includes("hunter2"),
  );
});

test("openPostgres opens PostgreSQL like Spool.open", { skip: PG_URL === undefined }, async () => {
  const schema = `entry_point_${process.pid}`;
  const spool = await openPostgres(PG_URL as string, { schema });
  try {
    assert.equal(spool.kind, "postgres");
    const queue = spool.queue<{ n: number }>("entry");
    const id = await queue.add({ n: 1 });
    const job = await queue.reserve();
    assert.equal(job?.id, id);
    if (job !== null) await queue.complete(job);
    assert.equal((await queue.get(id))?.state, "completed");
  } finally {
    await spool.close();
    const pg = (await import("pg")).default;
    const client = new pg.Client(PG_URL);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});
