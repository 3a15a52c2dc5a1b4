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
  return client as SqlClient;
}
