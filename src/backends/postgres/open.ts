/*
 * Opening a PostgreSQL store: validate the schema name (it is interpolated, quoted, into SQL),
 * create or migrate the schema (only read when it is current), start the LISTEN connection, and
 * hand back the backend.
 */
import type { BackendFactory, BackendOptions } from "../../backend.js";
import { SpoolError, show } from "../../errors.js";
import { PostgresBackend } from "./backend.js";
import { migrate } from "./migrations.js";
import { ListenNotifier } from "./notifier.js";
import { plannedOnceTexts } from "./planned-once.js";
import { Connections } from "./pool.js";
import { bindQueries } from "./queries.js";

/** An unquoted-identifier shape, so the name can be quoted and interpolated safely. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Notifications carry no schema: the channel does. NOTIFY channels are at most 63 bytes. */
const channelFor = (schema: string) => `${schema}:wake`.slice(0, 63);

/** Opens (creating or migrating its schema) a PostgreSQL store at a postgres:// URL. */
export const openPostgresBackend: BackendFactory = async (target: string, options: BackendOptions) => {
  const schema = options.schema;
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `schema ${show(schema)} is not allowed: use 1–63 characters of A–Z a–z 0–9 _, not starting with a digit`,
    );
  }
  const quoted = `"${schema}"`;
  const db = new Connections(target, options, bindQueries(quoted), plannedOnceTexts(quoted));
  const channel = channelFor(schema);
  let listener: ListenNotifier | null = null;
  try {
    await db.withClient(`opening schema ${show(schema)}`, (client) =>
      migrate(client, schema, quoted, options.create, options.migrate),
    );
    if (options.crossProcessWakeups) {
      listener = new ListenNotifier(target, channel, `spool-listener ${schema}`.slice(0, 63), db.pids);
      await listener.start().catch((error: unknown) => {
        throw db.translate(error, "starting the LISTEN connection");
      });
    }
  } catch (error) {
    await listener?.close();
    await db.close();
    throw error;
  }
  return new PostgresBackend(db, schema, channel, listener);
};
