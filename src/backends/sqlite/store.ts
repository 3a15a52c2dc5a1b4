// One open SQLite database as the backend uses it: statements prepared once, reads retried on a
// busy answer without blocking the loop, writes through the group-commit writer, and deletes
// that keep ids from ever being reused. The counterpart of the PostgreSQL backend's pool.ts.
import type { Clock } from "../../clock.js";
import { closedError } from "../shared.js";
import { isBusy, translate } from "./connection.js";
import type { Connection, Statement } from "./driver.js";
import { DROP_PLACEHOLDERS, MAX_ID, PLACEHOLDER } from "./queries.js";
import { type InTransaction, type Mergeable, Writer } from "./writer.js";

export class Store {
  private readonly writer: Writer;
  private readonly statements = new Map<string, Statement>();
  private readonly rawStatements = new Map<string, Statement>();
  private readonly pluckStatements = new Map<string, Statement>();
  private closed = false;

  constructor(
    readonly db: Connection,
    readonly path: string,
    /** The clock leases and run times are measured on (one machine: the process's). */
    readonly clock: Clock,
    private readonly busyTimeout: number,
  ) {
    this.writer = new Writer(db, path, busyTimeout);
  }

  /** Prepared once per statement text. */
  sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Prepared once per statement text, in raw mode: each row comes back as an array of its
   * columns in the statement's order, which costs less than an object per row.
   */
  rawSql(text: string): Statement {
    let statement = this.rawStatements.get(text);
    if (statement === undefined) {
      statement = this.db.prepareRaw(text);
      this.rawStatements.set(text, statement);
    }
    return statement;
  }

  /** Prepared once per statement text, returning each row's first column alone. */
  pluckSql(text: string): Statement {
    let statement = this.pluckStatements.get(text);
    if (statement === undefined) {
      statement = this.db.preparePluck(text);
      this.pluckStatements.set(text, statement);
    }
    return statement;
  }

  /**
   * A read, retried on the rare busy answer (another process's WAL recovery) without blocking
   * the loop, for up to busyTimeout like a write.
   */
  async read<T>(run: () => T): Promise<T> {
    this.assertOpen();
    const started = Date.now();
    for (;;) {
      try {
        return run();
      } catch (error) {
        if (!isBusy(error) || Date.now() - started >= this.busyTimeout) throw translate(error, this.path);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }

  /**
   * `run` inside the IMMEDIATE transaction this turn's writes share (see writer.ts); `autocommit`,
   * a single statement that commits by itself, serves instead when no other write shares it.
   */
  write<T>(run: () => T, merge?: Mergeable<unknown>, autocommit?: () => T | InTransaction): Promise<T> {
    // A promise-returning seam rejects, never throws: callers chain `.catch` on it.
    if (this.closed) return Promise.reject(closedError());
    return this.writer.write(run, merge, autocommit);
  }

  /** `write`, committed before it returns, blocking the thread while the lock is held. */
  writeSync<T>(run: () => T): T {
    this.assertOpen();
    return this.writer.writeSync(run);
  }

  /** A write that may delete rows: keeps the highest id taken (see PLACEHOLDER). */
  writeDeleting<T>(run: () => T): Promise<T> {
    return this.write(() => {
      const before = (this.sql(MAX_ID).get() as { id: number | null }).id;
      const result = run();
      const after = (this.sql(MAX_ID).get() as { id: number | null }).id;
      if (before !== null && (after === null || after < before)) {
        this.sql(PLACEHOLDER).run({ id: before });
        this.sql(DROP_PLACEHOLDERS).run({ id: before });
      }
      return result;
    });
  }

  assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Lets queued writes commit, then closes the database; later calls reject with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.close();
    this.closed = true;
    this.db.close();
  }
}
