/*
 * Shared by the PostgreSQL test files: a fresh random schema per test, dropped afterwards, and
 * bounded waiting for a condition (never a guessed sleep standing in for one).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { PayloadFormat } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
export const PG_URL = process.env.SPOOL_PG_URL;
/** Prints the one skip notice of a file when no server is configured; true when tests run. */
export function pgConfigured(file) {
  if (PG_URL === undefined || PG_URL === "") {
    console.log(`# ${file}: skipped, SPOOL_PG_URL is not set`);
    return false;
  }
  return true;
}
export function baseOptions(schema, more = {}) {
  return {
    durability: "full",
    busyTimeout: 5000,
    fileMode: 0o600,
    schema,
    crossProcessWakeups: true,
    clock: () => Date.now(),
    ...more,
  };
}
/** Runs SQL on a connection of its own (outside any backend). */
export async function sql(text, values = []) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}
/** A fresh schema for one test; every backend opened on it is closed and the schema dropped. */
export function fixture(t) {
  const schema = `spool_t_${randomBytes(6).toString("hex")}`;
  const opened = [];
  t.after(async () => {
    for (const b of opened) await b.close().catch(() => {});
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return {
    schema,
    async open(more = {}) {
      const backend = await openPostgresBackend(PG_URL, baseOptions(schema, more));
      opened.push(backend);
      return backend;
    },
  };
}
export function job(payload, more = {}) {
  return {
    payload: Buffer.from(JSON.stringify(payload)),
    format: PayloadFormat.Json,
    priority: 0,
    maxAttempts: 3,
    key: null,
    backoff: null,
    delayMs: 0,
    runAt: null,
    ttlMs: null,
    ...more,
  };
}
export const text = (bytes) => JSON.parse(Buffer.from(bytes).toString("utf8"));
/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function until(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** Resolves with the first value `subscribe`'s listener receives that satisfies `accept`. */
export function nextSignal(backend, accept, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no notification within ${ms} ms`));
    }, ms);
    const off = backend.notifier.subscribe((queue) => {
      if (!accept(queue)) return;
      clearTimeout(timer);
      off();
      resolve(queue);
    });
  });
}
//# sourceMappingURL=pg-helpers.js.map
