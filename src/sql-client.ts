// The `client` of `add(…, { client })`: the caller's own PostgreSQL connection, checked before
// anything is sent on it.
import { SpoolError, show } from "./errors.js";
import type { SqlClient } from "./types.js";

export function checkClient(client: unknown): SqlClient {
  if (
    (typeof client !== "object" && typeof client !== "function") ||
    client === null ||
    typeof (client as { query?: unknown }).query !== "function"
  ) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `client must be a pg Client or PoolClient (anything with query(text, values)), got ${show(client)}`,
    );
  }
  // A pg Pool has query() too, but runs each statement on whichever connection is free: never
  // inside the caller's transaction, so the add would commit on its own, silently.
  const maybePool = client as { connect?: unknown; totalCount?: unknown; idleCount?: unknown };
  if (
    typeof maybePool.connect === "function" &&
    typeof maybePool.totalCount === "number" &&
    typeof maybePool.idleCount === "number"
  ) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      "client is a pg Pool, which runs each statement on any free connection, outside your transaction: pass the client you ran BEGIN on (const client = await pool.connect())",
    );
  }
  return client as SqlClient;
}
