/*
 * The backend suite's harness: the seam (src/backend.ts) opened directly, no core, on any of the
 * conformance stores (SQLite file, SQLite `:memory:`, PostgreSQL). Each test gets a fresh store;
 * every backend it opens is closed and the store dropped when the test ends.
 */
import type { TestContext } from "node:test";
import type { Backend, BackendOptions, Hold } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
import { openSqliteBackend } from "../../src/backends/sqlite/index.js";
import type { BackendFixture } from "../conformance/harness.js";
import { waitFor } from "../conformance/harness.js";

export { job } from "../helpers/new-job.js";

/** Per-test options: a hung promise fails its test instead of the whole run. */
export const T = { timeout: 30_000 } as const;

/** A fresh store for one test. */
export interface Store {
  /** The first backend on the store (opened by `store()`). */
  backend: Backend;
  /**
   * Another backend on the same store, as a second process would open it. `:memory:` is one
   * connection's database, so there it is the same backend: concurrent calls still race on it.
   */
  peer(more?: Partial<BackendOptions>): Promise<Backend>;
  /** Opens the store again (persistent stores only): what a restarted process finds. */
  reopen(more?: Partial<BackendOptions>): Promise<Backend>;
}

/** The options `Spool.open` would resolve with no options given. */
function backendOptions(schema: string | undefined, more: Partial<BackendOptions>): BackendOptions {
  // Built by spreading, so a field the options drop later is not an excess-property error here.
  const defaults = {
    durability: "full" as const,
    busyTimeout: 5000,
    fileMode: 0o600,
    schema: schema ?? "spool",
    crossProcessWakeups: true,
    create: true,
    migrate: true,
    clock: () => Date.now(),
  };
  return { ...defaults, ...more };
}

/** Opens a fresh store of `fixture` for test `t`. */
export async function store(fixture: BackendFixture, t: TestContext): Promise<Store> {
  const target = await fixture.newTarget();
  const opened: Backend[] = [];
  t.after(async () => {
    for (const b of opened) await b.close().catch(() => {});
    await target.cleanup();
  });
  const schema = target.options.schema;
  const open = async (more: Partial<BackendOptions> = {}) => {
    const options = backendOptions(schema, more);
    const b =
      fixture.kind === "postgres"
        ? await openPostgresBackend(target.target, options)
        : await openSqliteBackend(target.target, options);
    opened.push(b);
    return b;
  };
  const backend = await open();
  return {
    backend,
    peer: (more) => (fixture.persistent ? open(more) : Promise.resolve(backend)),
    reopen: (more) => {
      if (!fixture.persistent) throw new Error(`${fixture.name} cannot be reopened`);
      return open(more);
    },
  };
}

/** A hold by attempt alone (null: any holder), as a Job rebuilt elsewhere would give. */
export const at = (attempt: number | null): Hold => ({ attempt, token: null });

/** A JSON payload back as its value. */
export const text = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;

/** Polls `check` until it returns a value other than undefined; fails (naming `what`) after 10 s. */
export async function until<V>(what: string, check: () => Promise<V | undefined>): Promise<V> {
  let value: V | undefined;
  await waitFor(what, async () => {
    value = await check();
    return value !== undefined;
  });
  return value as V;
}
