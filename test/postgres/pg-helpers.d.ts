import type { TestContext } from "node:test";
import pg from "pg";
import type { Backend, BackendOptions, NewJob } from "../../src/backend.js";
export declare const PG_URL: string | undefined;
/** Prints the one skip notice of a file when no server is configured; true when tests run. */
export declare function pgConfigured(file: string): boolean;
export declare function baseOptions(schema: string, more?: Partial<BackendOptions>): BackendOptions;
/** Runs SQL on a connection of its own (outside any backend). */
export declare function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values?: unknown[],
): Promise<R[]>;
export interface Fixture {
  schema: string;
  /** Opens a backend on this test's schema; closed when the test ends. */
  open(more?: Partial<BackendOptions>): Promise<Backend>;
}
/** A fresh schema for one test; every backend opened on it is closed and the schema dropped. */
export declare function fixture(t: TestContext): Fixture;
export declare function job(payload: unknown, more?: Partial<NewJob>): NewJob;
export declare const text: (bytes: Uint8Array) => unknown;
/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export declare function until<T>(what: string, check: () => Promise<T | undefined>, ms?: number): Promise<T>;
/** Resolves with the first value `subscribe`'s listener receives that satisfies `accept`. */
export declare function nextSignal(
  backend: Backend,
  accept: (queue: string | null) => boolean,
  ms?: number,
): Promise<string | null>;
