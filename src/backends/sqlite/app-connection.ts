// The application's own better-sqlite3 connection, for `addSync` on a Spool opened on it: the
// add joins whatever transaction the application has open there, so the job commits or rolls
// back with the application's own rows. Spool's own work (claims, completions, reads) stays on
// its own connection to the same file, so it never runs inside the application's transaction.
import type Database from "better-sqlite3";
import { SpoolError } from "../../errors.js";
import { isBusy, translate } from "./connection.js";
import { sqliteCode } from "./driver.js";

export class AppConnection {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly pluckStatements = new Map<string, Database.Statement>();

  constructor(
    readonly db: Database.Database,
    readonly path: string,
    private readonly busyTimeout: number,
  ) {}

  /** Prepared once per statement text, on the application's connection. */
  sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      // Numbers, whatever the application chose for its own statements (defaultSafeIntegers):
      // ids and counts come back as Spool's own statements return them.
      statement = this.db.prepare(text).safeIntegers(false);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** `sql`, returning each row's first column alone. */
  pluckSql(text: string): Database.Statement {
    let statement = this.pluckStatements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text).safeIntegers(false).pluck();
      this.pluckStatements.set(text, statement);
    }
    return statement;
  }

  /**
   * An error inside the application's transaction. A snapshot conflict is not a lock to wait
   * for: the transaction read before another connection committed, so it can never write, and
   * only starting it again helps. Said so, instead of the busy timeout's words.
   */
  private inTransactionError(error: unknown): unknown {
    if (sqliteCode(error) === "SQLITE_BUSY_SNAPSHOT") {
      return new SpoolError(
        "BUSY",
        `addSync on ${this.path}: the application's transaction read the database before another connection changed it, so it cannot write; run it again from the start (begin it with db.transaction(...).immediate() to take the write lock first)`,
        { cause: error },
      );
    }
    return translate(error, this.path);
  }

  /**
   * Runs `run` inside the application's open transaction, as a savepoint (a failed add undoes
   * itself and leaves the transaction usable), or, with none open, in an IMMEDIATE transaction
   * of its own, committed before this returns: the thread waits while another connection holds
   * the write lock, up to the busy timeout, as better-sqlite3 itself does.
   */
  write<T>(run: () => T): T {
    if (!this.db.open) {
      throw new SpoolError("CLOSED", `the application's database connection to ${this.path} is closed`);
    }
    const transaction = this.db.transaction(run);
    if (this.db.inTransaction) {
      try {
        return transaction();
      } catch (error) {
        throw this.inTransactionError(error);
      }
    }
    const started = Date.now();
    for (;;) {
      try {
        return transaction.immediate();
      } catch (error) {
        if (!isBusy(error) || Date.now() - started >= this.busyTimeout) throw translate(error, this.path);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
    }
  }
}
