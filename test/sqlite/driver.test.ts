// The SQLite driver seam: the `driver` option and SPOOL_SQLITE_DRIVER are checked, a driver this
// Node cannot load is refused in words that say what to do, and on each driver that loads a
// job's bytes come back as Buffers (node:sqlite returns BLOBs as Uint8Array).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { driverStatus } from "../../src/backends/sqlite/driver.js";
import { Spool, SpoolError } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "spool-driver-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `d${++files}.db`);

const status = driverStatus();
const loads = (driver: string) => status.some((d) => d.driver === driver && d.reason === null);

test("a driver that is not one of the two is INVALID_ARGUMENT naming it", async () => {
  await assert.rejects(
    () => Spool.open(file(), { driver: "sqlite3" } as never),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "INVALID_ARGUMENT" &&
      /driver must be "better-sqlite3" or "node:sqlite", got "sqlite3"/.test(error.message),
  );
});

test("SPOOL_SQLITE_DRIVER is checked like the option", async () => {
  const before = process.env.SPOOL_SQLITE_DRIVER;
  process.env.SPOOL_SQLITE_DRIVER = "bun:sqlite";
  try {
    await assert.rejects(
      () => Spool.open(file()),
      (error: unknown) =>
        error instanceof SpoolError &&
        error.code === "INVALID_ARGUMENT" &&
        /SPOOL_SQLITE_DRIVER must be .* got "bun:sqlite"/.test(error.message),
    );
  } finally {
    if (before === undefined) delete process.env.SPOOL_SQLITE_DRIVER;
    else process.env.SPOOL_SQLITE_DRIVER = before;
  }
});

test("node:sqlite on a Node without it is STORAGE naming the Node it needs", {
  skip: loads("node:sqlite"),
}, async () => {
  await assert.rejects(
    () => Spool.open(file(), { driver: "node:sqlite" }),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "STORAGE" &&
      /driver "node:sqlite" is not available: .*Node 22\.16 or later, or 24/.test(error.message),
  );
});

test("better-sqlite3 that does not load is STORAGE saying what to install", {
  skip: loads("better-sqlite3"),
}, async () => {
  await assert.rejects(
    () => Spool.open(file(), { driver: "better-sqlite3" }),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "STORAGE" &&
      /npm install better-sqlite3/.test(error.message) &&
      /"node:sqlite"/.test(error.message),
  );
});

for (const driver of ["better-sqlite3", "node:sqlite"] as const) {
  test(`${driver}: bytes come back as Buffers, to the codec and to the caller`, {
    skip: !loads(driver),
  }, async () => {
    const spool = await Spool.open(file(), { driver, durability: "normal" });
    try {
      const seen: unknown[] = [];
      const custom = spool.queue<string>("custom", {
        codec: {
          encode: (value) => Buffer.from(value),
          decode: (bytes) => {
            seen.push(bytes);
            return Buffer.from(bytes).toString();
          },
        },
      });
      const bytes = spool.queue<Buffer>("bytes");
      const a = await custom.add("hello");
      const b = await bytes.add(Buffer.from([1, 2, 3]));
      assert.equal((await custom.get(a))?.payload, "hello");
      assert.ok(seen.length > 0 && seen.every((x) => Buffer.isBuffer(x)), "the codec is handed Buffers");
      const job = await bytes.reserve();
      assert.ok(job !== null && Buffer.isBuffer(job.payload) && job.payload.equals(Buffer.from([1, 2, 3])));
      await bytes.complete(job, Buffer.from([9]));
      const done = await bytes.get(b);
      assert.ok(done !== null && Buffer.isBuffer(done.result));
      assert.deepEqual([...(done.result as Buffer)], [9]);
      // A many-row insert (arrays bound in one call) and a take (rows as arrays).
      await bytes.addBatch(Array.from({ length: 300 }, (_, i) => Buffer.from([i % 256])));
      assert.equal((await bytes.size()).pending, 300);
    } finally {
      await spool.close();
    }
  });
}

// Each driver carries its own SQLite library, and SQLite's locks are per process: two libraries
// on one file in one process each miss the other's connections, and closing one's last
// connection deletes the -wal file under the other (a review lost 100 acknowledged adds so).
test("one process opens a file through one driver at a time", {
  skip: !loads("better-sqlite3") || !loads("node:sqlite"),
}, async () => {
  const path = file();
  const one = await Spool.open(path, { driver: "better-sqlite3", durability: "normal" });
  const refused = await Spool.open(path, { driver: "node:sqlite" }).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof SpoolError && refused.code === "STORAGE", String(refused));
  assert.match(refused.message, /open in this process through better-sqlite3/);
  const id = await one.queue("q").add("x");
  await one.close();
  // Closed: the other driver may have it now, and finds what the first wrote.
  const two = await Spool.open(path, { driver: "node:sqlite", durability: "normal" });
  try {
    assert.equal((await two.queue("q").get(id))?.state, "pending");
  } finally {
    await two.close();
  }
});

test("Spool.open(db) on a better-sqlite3 Database refuses driver node:sqlite", {
  skip: !loads("better-sqlite3"),
}, async () => {
  const path = file();
  const Database = createRequire(import.meta.url)("better-sqlite3");
  const db = new Database(path);
  try {
    const refused = await Spool.open(db, { driver: "node:sqlite" }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof SpoolError && refused.code === "INVALID_ARGUMENT", String(refused));
  } finally {
    db.close();
  }
});

/** Opens a file in a child process where better-sqlite3 cannot be found (--omit=optional). */
function openWithoutBetterSqlite3(path: string): { ok?: string; code?: string; message?: string } {
  const helpers = new URL("../helpers/", import.meta.url);
  const out = execFileSync(
    process.execPath,
    [
      "--require",
      new URL("hide-better-sqlite3.cjs", helpers).pathname,
      "--import",
      "tsx",
      new URL("open-any.ts", helpers).pathname,
      path,
    ],
    { encoding: "utf8", env: { ...process.env, SPOOL_SQLITE_DRIVER: "" } },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

test("without better-sqlite3 Spool opens on node:sqlite", { skip: !loads("node:sqlite") }, () => {
  assert.deepEqual(openWithoutBetterSqlite3(file()), { ok: "ok" });
});

test("without better-sqlite3 on a Node with no node:sqlite, STORAGE says what to install", {
  skip: loads("node:sqlite"),
}, () => {
  const outcome = openWithoutBetterSqlite3(file());
  assert.equal(outcome.code, "STORAGE");
  assert.match(outcome.message ?? "", /no SQLite driver loads: better-sqlite3 does not \(Cannot find module/);
  assert.match(outcome.message ?? "", /npm install better-sqlite3/);
  assert.match(outcome.message ?? "", /Node 24/);
});
