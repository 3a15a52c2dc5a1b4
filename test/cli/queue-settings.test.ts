// Issue 12, item 1: the CLI's processes follow the retention stored with each queue. `spool work`
// prunes the queue it works by it, never by its defaults; the viewers (`stats --watch`, `list`,
// the dashboard) change nothing at all.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";
import { exited, spool, start, tempDir, waitFor } from "./helpers.js";

const DAY = 24 * 3_600_000;
/** More than the defaults (1 h completed, 14 days dead). */
const KEEP = { completed: 30 * DAY, dead: 90 * DAY };
/** How old the finished jobs look: past both defaults, within KEEP. */
const AGE = 20 * DAY;
/** Before the fix, default handles pruned 60 s after they were opened (then each minute). */
const PRE_FIX_PRUNE_MS = 60_000;
/** Ticks (250 ms), process start-up and the checks' own reads, on a busy machine. */
const MARGIN_MS = 5_000;

const dir = tempDir();
let n = 0;
const HANDLER = join(dir, "handler.mjs");
writeFileSync(HANDLER, "export default async () => 'ok';\n");

interface Store {
  /** The database argument of the CLI. */
  db: string;
  /** Opens a Spool on it (one that only looks, unless told otherwise). */
  open(options?: SpoolOptions): Promise<Spool>;
  /** A completed and a dead job of "kept", finished AGE ago. */
  kept: number[];
  /** The same, finished 100 days ago: past KEEP too. */
  ancient: number[];
  /** A completed and a dead job of "plain" (no stored settings), finished AGE ago. */
  plain: number[];
}

const pgBase = process.env.SPOOL_PG_URL;
const pgSchemas: string[] = [];
after(async () => {
  if (pgSchemas.length === 0) return;
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: pgBase });
  await client.connect();
  for (const schema of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

/**
 * A store whose queue "kept" states KEEP, with finished jobs that look old: on SQLite made
 * under a clock set back, on PostgreSQL (the database's time) moved back once made.
 */
async function store(kind: "sqlite" | "postgres"): Promise<Store> {
  let db: string;
  let open: Store["open"];
  if (kind === "sqlite") {
    db = join(dir, `s${++n}.db`);
    open = (options) => Spool.open(db, options);
  } else {
    const schema = `spool_cli_${randomBytes(4).toString("hex")}`;
    pgSchemas.push(schema);
    const url = new URL(pgBase ?? "");
    url.searchParams.set("schema", schema);
    db = url.toString();
    open = (options) => Spool.open(pgBase ?? "", { ...options, schema });
  }
  const skew = { ms: 0 };
  const s = await open({ clock: () => Date.now() + skew.ms } as SpoolOptions);
  const aged: { ids: number[]; age: number }[] = [];
  const finished = async (name: string, age: number) => {
    const q = name === "kept" ? s.queue(name, { retention: KEEP }) : s.queue(name);
    skew.ms = -age;
    const ids = await q.addBatch([1, 2], { maxAttempts: 1 });
    await q.complete((await q.reserve())!);
    await q.fail((await q.reserve())!, "boom");
    aged.push({ ids, age });
    return ids;
  };
  const made = {
    db,
    open,
    kept: await finished("kept", AGE),
    ancient: await finished("kept", 100 * DAY),
    plain: await finished("plain", AGE),
  };
  await s.close();
  if (kind === "postgres") {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: pgBase });
    await client.connect();
    const schema = new URL(db).searchParams.get("schema");
    for (const { ids, age } of aged) {
      await client.query(
        `UPDATE "${schema}".jobs SET finished_at = finished_at - $2 * interval '1 millisecond' WHERE id = ANY($1)`,
        [ids, age],
      );
    }
    await client.end();
  }
  return made;
}

/** The states of the given jobs, read by a Spool that only looks. */
async function states(store: Store, queue: string, ids: readonly number[]): Promise<(string | null)[]> {
  const s = await store.open();
  try {
    return await Promise.all(ids.map(async (id) => (await s.queue(queue).get(id))?.state ?? null));
  } finally {
    await s.close();
  }
}

for (const kind of ["sqlite", "postgres"] as const) {
  const skip = kind === "postgres" && !pgBase ? "SPOOL_PG_URL is not set" : false;
  describe(`queue settings from the command line (${kind})`, { skip }, () => {
    test("spool work prunes its queue by the stored retention, never by its defaults", {
      timeout: 120_000,
    }, async () => {
      const st = await store(kind);
      const { db, kept, ancient, plain } = st;
      const child = start(["work", db, "kept", HANDLER]);
      try {
        await waitFor(
          "spool work to prune the jobs past the stored retention",
          async () => (await states(st, "kept", ancient)).every((s) => s === null),
          90_000,
        );
        assert.deepEqual(await states(st, "kept", kept), ["completed", "dead"], "nothing kept is lost");
        assert.deepEqual(await states(st, "plain", plain), ["completed", "dead"], "a queue it does not work");
      } finally {
        child.kill("SIGTERM");
        const r = await exited(child);
        assert.equal(r.code, 0, r.stderr);
      }
    });

    // It watches for a minute: once is enough (a viewer's Spool works no queue on any backend,
    // which the conformance suite proves on each, in process).
    const watchOnce = kind === "sqlite" ? false : "proved on SQLite; the conformance suite covers PostgreSQL";
    test("stats --watch, list and the dashboard's /api/overview change no job", {
      skip: watchOnce,
      timeout: 120_000,
    }, async () => {
      const st = await store(kind);
      const { db, kept, ancient, plain } = st;
      const watch = start(["stats", db, "--watch", "--interval", "200ms"]);
      const board = start(["dashboard", db, "--port", "0"]);
      try {
        const url = await waitFor(
          "the dashboard's address",
          () => /at (http:\/\/\S+)/.exec(board.out.stdout)?.[1],
        );
        const status = await new Promise<number>((resolve, reject) => {
          get(new URL("api/overview", url), (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          }).on("error", reject);
        });
        assert.equal(status, 200);
        await waitFor("a first frame of stats --watch", () => /kept/.test(watch.out.stdout));
        // Every viewer has opened its handles by now: the pre-fix pruning followed within a minute.
        const opened = Date.now();
        const list = await spool(["list", db, "kept", "--state", "dead"]);
        assert.equal(list.code, 0, list.stderr);
        // A negative across processes: watched for as long as the pre-fix pruning took to show.
        await waitFor(
          "the viewers' longest pruning period to pass (or, before the fix, their pruning)",
          async () =>
            Date.now() - opened > PRE_FIX_PRUNE_MS + MARGIN_MS ||
            (await states(st, "plain", plain)).includes(null),
          90_000,
        );
        assert.deepEqual(await states(st, "plain", plain), ["completed", "dead"], "not even by the defaults");
        assert.deepEqual(await states(st, "kept", kept), ["completed", "dead"]);
        assert.deepEqual(
          await states(st, "kept", ancient),
          ["completed", "dead"],
          "not even past the stored one",
        );
      } finally {
        watch.kill("SIGTERM");
        board.kill("SIGTERM");
        await Promise.all([exited(watch), exited(board)]);
      }
    });
  });
}
