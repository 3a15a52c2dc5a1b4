// `spool/postgres`: openPostgres opens only PostgreSQL URLs; anything else is refused before a
// file is created. (A missing `pg` is checked on the installed tarball: scripts/pack-check.mjs.)
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
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

test("a postgres URL's ?schema= is the schema the library opens, as the CLI reads it", {
  skip: PG_URL === undefined,
}, async () => {
  const schema = `entry_url_${process.pid}`;
  const url = new URL(PG_URL as string);
  url.searchParams.set("schema", schema);
  const pg = (await import("pg")).default;
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const spool = await Spool.open(url.toString());
    try {
      await spool.queue("in-url").add(1);
    } finally {
      await spool.close();
    }
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE queue = 'in-url'`,
    );
    assert.equal(rows[0].n, 1);
    await assert.rejects(
      () => openPostgres(url.toString(), { schema: "another_one" }),
      (error: unknown) =>
        error instanceof SpoolError && error.code === "INVALID_ARGUMENT" && /name one/.test(error.message),
    );
    const same = await openPostgres(url.toString(), { schema });
    await same.close();
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});
