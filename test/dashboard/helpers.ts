/*
 * Shared by the dashboard tests: stores to serve (a SQLite temp file, or a random PostgreSQL
 * schema when SPOOL_PG_URL is set), Debian's Chromium through playwright-core, raw HTTP
 * requests (fetch cannot forge a Host header), and bounded waiting for a condition.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { Spool } from "../../src/index.js";
import type { Queue } from "../../src/queue.js";

export const PG_URL = process.env.SPOOL_PG_URL || undefined;

/** An open Spool on a fresh store, closed (and its files or schema dropped) after the test. */
export interface Store {
  name: string;
  open(t: TestContext): Promise<Spool>;
}

export const sqliteStore: Store = {
  name: "sqlite",
  async open(t) {
    const dir = await mkdtemp(join(tmpdir(), "spool-dashboard-"));
    const spool = await Spool.open(join(dir, "jobs.db"));
    t.after(async () => {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    });
    return spool;
  },
};

export const postgresStore: Store = {
  name: "postgres",
  async open(t) {
    const schema = `spool_dash_${randomBytes(6).toString("hex")}`;
    const spool = await Spool.open(PG_URL as string, { schema });
    t.after(async () => {
      await spool.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    return spool;
  },
};

export const stores: Store[] = PG_URL === undefined ? [sqliteStore] : [sqliteStore, postgresStore];

const CHROMIUM = "/usr/bin/chromium";

/** Debian's Chromium, shared by one test file; closed after it. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install it with "apt-get update && apt-get install -y chromium"`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A page whose script errors fail the test, and whose confirm() dialogs are accepted. */
export async function openPage(t: TestContext, browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("dialog", (dialog) => void dialog.accept());
  t.after(async () => {
    await context.close();
    if (errors.length > 0) throw new Error(`the page raised: ${errors.join("; ")}`);
  });
  await page.goto(url);
  return page;
}

/** Polls `check` until it returns a truthy value, or fails after `timeout` ms naming `what`. */
export async function until<T>(what: string, check: () => Promise<T> | T, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with full control of the headers, Host included. */
export function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The page's CSRF token, as a script on it would read it. */
export function csrfOf(html: string): string {
  const match = /<meta name="spool-csrf" content="([^"]+)">/.exec(html);
  if (!match?.[1]) throw new Error("the page carries no CSRF token");
  return match[1];
}

/**
 * Puts jobs in every state: pending 3, delayed 2, reserved 2, completed 2, dead 1.
 * Returns the dead job's id.
 */
export async function seedEveryState(queue: Queue): Promise<number> {
  await queue.addBatch([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }], { maxAttempts: 1 });
  const [a, b, c] = await queue.reserveBatch(5, { lease: 600_000 });
  if (!a || !b || !c) throw new Error("seeding could not reserve its jobs");
  await queue.complete(a, { ok: true });
  await queue.complete(b);
  await queue.fail(c, new Error("smtp: connection refused"));
  await queue.addBatch([{ n: 6 }, { n: 7 }, { n: 8 }]);
  await queue.addBatch([{ n: 9 }, { n: 10 }], { delay: 3_600_000 });
  return c.id;
}

/**
 * Waits until the element at `selector` reads exactly `text`. Through a locator, not
 * waitForFunction: the page's CSP forbids the eval that a string predicate would need.
 */
export async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  await page.locator(selector, { hasText: exact }).waitFor();
}
