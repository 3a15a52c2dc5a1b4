// The SQLite driver seam: the `driver` option and SPOOL_SQLITE_DRIVER are checked, a driver this
// runtime cannot load is refused in words that say what to do, and on each driver that loads a
// job's bytes come back as Buffers (node:sqlite and bun:sqlite return BLOBs as Uint8Array), a
// held lock is a busy answer at once, and a connection reads back what it wrote. Under Bun
// (`bun test test/sqlite/driver.test.ts`) the bun:sqlite tests run too.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isBusy } from "../../src/backends/sqlite/connection.js";
import { driverStatus, openConnection, sqliteCode } from "../../src/backends/sqlite/driver.js";
import { Spool, SpoolError } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "spool-driver-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `d${++files}.db`);

const status = driverStatus();
const loads = (driver: string) => status.some((d) => d.driver === driver && d.reason === null);

/** Runs `fn` with SPOOL_SQLITE_DRIVER set to `value` (unset for undefined), then puts it back. */
async function withDriverEnv<T>(value: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  const before = process.env.SPOOL_SQLITE_DRIVER;
  if (value === undefined) delete process.env.SPOOL_SQLITE_DRIVER;
  else process.env.SPOOL_SQLITE_DRIVER = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.SPOOL_SQLITE_DRIVER;
    else process.env.SPOOL_SQLITE_DRIVER = before;
  }
}

test("a driver that is not one of the three is INVALID_ARGUMENT naming it", async () => {
  await assert.rejects(
    () => Spool.open(file(), { driver: "sqlite3" } as never),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "INVALID_ARGUMENT" &&
      /driver must be "better-sqlite3", "node:sqlite" or "bun:sqlite", got "sqlite3"/.test(error.message),
  );
});

test("SPOOL_SQLITE_DRIVER is checked like the option", async () => {
  await withDriverEnv("sqlite3", () =>
    assert.rejects(
      () => Spool.open(file()),
      (error: unknown) =>
        error instanceof SpoolError &&
        error.code === "INVALID_ARGUMENT" &&
        /SPOOL_SQLITE_DRIVER must be "better-sqlite3", "node:sqlite" or "bun:sqlite", got "sqlite3"/.test(
          error.message,
        ),
    ),
  );
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

test("better-sqlite3 that does not load is STORAGE saying what to do instead, on one line", {
  skip: loads("better-sqlite3"),
}, async () => {
  await assert.rejects(
    () => Spool.open(file(), { driver: "better-sqlite3" }),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "STORAGE" &&
      !error.message.includes("\n") &&
      // On Bun it can never load: no advice to install it there.
      (process.versions.bun === undefined
        ? /npm install better-sqlite3/.test(error.message) && /"node:sqlite"/.test(error.message)
        : /cannot run on Bun/.test(error.message) &&
          !/npm install/.test(error.message) &&
          /"bun:sqlite"/.test(error.message)),
  );
});

test("bun:sqlite on Node is STORAGE naming it and the drivers Node has", {
  skip: loads("bun:sqlite"),
}, async () => {
  const path = file();
  await assert.rejects(
    () => Spool.open(path, { driver: "bun:sqlite" }),
    (error: unknown) =>
      error instanceof SpoolError &&
      error.code === "STORAGE" &&
      /driver "bun:sqlite" is not available: bun:sqlite is built into Bun only, and this is Node v\d+/.test(
        error.message,
      ) &&
      /On Node use "better-sqlite3" or "node:sqlite"/.test(error.message),
  );
  // The same through the environment variable.
  await withDriverEnv("bun:sqlite", () =>
    assert.rejects(
      () => Spool.open(file()),
      (error: unknown) =>
        error instanceof SpoolError && error.code === "STORAGE" && /"bun:sqlite"/.test(error.message),
    ),
  );
});

test("with no driver asked for, Bun opens with bun:sqlite and Node with better-sqlite3 where it loads", () =>
  withDriverEnv(undefined, () => {
    const db = openConnection(file(), undefined);
    try {
      const expected =
        process.versions.bun !== undefined
          ? "bun:sqlite"
          : loads("better-sqlite3")
            ? "better-sqlite3"
            : "node:sqlite";
      assert.equal(db.driver, expected);
    } finally {
      db.close();
    }
  }));

for (const driver of ["better-sqlite3", "node:sqlite", "bun:sqlite"] as const) {
  test(`${driver}: what the backend relies on, on the driver itself`, { skip: !loads(driver) }, () => {
    const path = file();
    const a = openConnection(path, driver);
    const b = openConnection(path, driver);
    try {
      assert.equal(a.driver, driver);
      // No busy wait in the driver: the backend retries busy steps itself.
      assert.equal(a.preparePluck("PRAGMA busy_timeout").get(), 0);
      a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, b BLOB);");
      // Named values without their prefix; keys the statement does not name are ignored.
      const insert = a.prepare("INSERT INTO t (n, b) VALUES (:n, @b)");
      const r = insert.run({ n: 2 ** 40, b: Buffer.from([7]), unused: "x" });
      assert.deepEqual([r.changes, Number(r.lastInsertRowid)], [1, 1]);
      insert.run({ n: 2 ** 53 - 1, b: null });
      // An array binds its values in order; rows as objects, arrays, or their first column.
      a.prepare("INSERT INTO t (n) VALUES (?), (?)").run([3, 4]);
      assert.deepEqual(a.prepareRaw("SELECT id, n FROM t ORDER BY id").all(), [
        [1, 2 ** 40],
        [2, 2 ** 53 - 1],
        [3, 3],
        [4, 4],
      ]);
      assert.deepEqual(a.prepareRaw("SELECT id, n FROM t WHERE id = ?").get(3), [3, 3]);
      assert.equal(a.prepareRaw("SELECT id FROM t WHERE id = ?").get(99), undefined);
      assert.equal(a.preparePluck("SELECT n FROM t WHERE id = ?").get(2), 2 ** 53 - 1);
      assert.equal(a.preparePluck("SELECT n FROM t WHERE id = ?").get(99), undefined);
      assert.deepEqual(a.preparePluck("SELECT id FROM t ORDER BY id").all(), [1, 2, 3, 4]);
      assert.equal(a.prepare("SELECT * FROM t WHERE id = ?").get(99), undefined);
      const row = a.prepare("SELECT b FROM t WHERE id = 1").get() as { b: unknown };
      assert.ok(Buffer.isBuffer(row.b) && row.b.equals(Buffer.from([7])));
      assert.ok(Buffer.isBuffer(a.preparePluck("SELECT b FROM t WHERE id = 1").get()));
      // A transaction commits, a throwing one rolls back, a nested one is a savepoint.
      assert.equal(a.inTransaction, false);
      a.transaction(() => {
        assert.equal(a.inTransaction, true);
        a.prepare("DELETE FROM t WHERE id = 4").run();
        assert.throws(() =>
          a.transaction(() => {
            a.prepare("DELETE FROM t").run();
            throw new Error("undo the inner one");
          }),
        );
      }, "immediate");
      assert.deepEqual(a.preparePluck("SELECT id FROM t ORDER BY id").all(), [1, 2, 3]);
      // A held write lock is a busy answer at once on the other connection, in better-sqlite3's names.
      a.exec("BEGIN IMMEDIATE");
      let busy: unknown;
      try {
        b.exec("BEGIN IMMEDIATE");
      } catch (error) {
        busy = error;
      }
      a.exec("ROLLBACK");
      assert.equal(sqliteCode(busy), "SQLITE_BUSY");
      assert.equal(isBusy(busy), true);
    } finally {
      a.close();
      b.close();
    }
    assert.equal(a.isOpen, false);
    assert.equal(a.inTransaction, false);
  });
}

for (const driver of ["better-sqlite3", "node:sqlite", "bun:sqlite"] as const) {
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

// Bun's node:sqlite runs on Bun's own SQLite, the library bun:sqlite is: one library, whose
// connections see each other's locks, so the two may share a file in one process.
test("on Bun, node:sqlite and bun:sqlite share a file in one process", {
  skip: process.versions.bun === undefined || !loads("node:sqlite") || !loads("bun:sqlite"),
}, async () => {
  const path = file();
  const one = await Spool.open(path, { driver: "bun:sqlite", durability: "normal" });
  const two = await Spool.open(path, { driver: "node:sqlite", durability: "normal" });
  try {
    const a = openConnection(path, "bun:sqlite");
    const b = openConnection(path, "node:sqlite");
    try {
      a.exec("BEGIN IMMEDIATE");
      assert.throws(
        () => b.exec("BEGIN IMMEDIATE"),
        (error: unknown) => isBusy(error),
      );
      a.exec("ROLLBACK");
    } finally {
      a.close();
      b.close();
    }
    const id = await one.queue("q").add("x");
    await two.close();
    // The node:sqlite side's last connection closed: the bun:sqlite side's commits stay.
    const ids = [id];
    for (let i = 0; i < 20; i++) ids.push(await one.queue("q").add(i));
    await one.close();
    const three = await Spool.open(path, { driver: "bun:sqlite" });
    try {
      assert.equal((await three.queue("q").size()).pending, ids.length);
    } finally {
      await three.close();
    }
  } finally {
    await two.close();
    await one.close();
  }
});

test("Spool.open(db) on a better-sqlite3 Database refuses driver node:sqlite and bun:sqlite", {
  skip: !loads("better-sqlite3"),
}, async () => {
  const path = file();
  const Database = createRequire(import.meta.url)("better-sqlite3");
  const db = new Database(path);
  try {
    for (const driver of ["node:sqlite", "bun:sqlite"] as const) {
      const refused = await Spool.open(db, { driver }).then(
        () => null,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof SpoolError && refused.code === "INVALID_ARGUMENT", String(refused));
      assert.match(refused.message, new RegExp(`driver "${driver}" cannot share its file`));
    }
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
