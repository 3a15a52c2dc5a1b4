/*
 * `spool/postgres`: PostgreSQL on its own import path, for code that only ever opens PostgreSQL
 * and wants that said where it opens (`Spool.open("postgres://…")` does the same). `pg` stays
 * an optional peer dependency: this module does not load it until a store is opened, and a
 * missing `pg` is a STORAGE error that says to install it.
 */
import { SpoolError, show } from "./errors.js";
import { isPostgresTarget } from "./open.js";
import { redactTarget } from "./redact.js";
import { Spool } from "./spool.js";
import type { SpoolOptions } from "./types.js";

/**
 * Opens a Spool on the PostgreSQL database at `url` (`postgres://` or `postgresql://`),
 * creating or migrating its schema (`options.schema`, default "spool").
 * @example const spool = await openPostgres("postgres://app@db:5432/app", { schema: "jobs" })
 */
export async function openPostgres(url: string, options?: SpoolOptions): Promise<Spool> {
  if (typeof url !== "string" || !isPostgresTarget(url)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `openPostgres needs a postgres:// or postgresql:// URL, got ${show(typeof url === "string" ? redactTarget(url) : url)}`,
    );
  }
  return Spool.open(url, options);
}
