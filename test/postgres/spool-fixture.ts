/*
 * A whole Spool (not just its backend) on a fresh random schema, for the PostgreSQL tests that
 * need the public API; every handle is closed and the schema dropped when the test ends.
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { Spool } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";
import { PG_URL, sql } from "./pg-helpers.js";

export interface SpoolFixture {
  schema: string;
  url: string;
  open(more?: SpoolOptions, url?: string): Promise<Spool>;
}

export function spoolFixture(t: TestContext): SpoolFixture {
  const schema = `spool_t_${randomBytes(6).toString("hex")}`;
  const opened: Spool[] = [];
  t.after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return {
    schema,
    url: PG_URL as string,
    async open(more = {}, url = PG_URL as string) {
      const spool = await Spool.open(url, { schema, ...more });
      opened.push(spool);
      return spool;
    },
  };
}
