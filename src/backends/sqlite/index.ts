import type { BackendFactory } from "../../backend.js";
import { SqliteBackend } from "./backend.js";

export { SqliteBackend } from "./backend.js";

/** Opens a SQLite file (or ":memory:") as a Spool backend. */
export const openSqliteBackend: BackendFactory = (target, options) => SqliteBackend.open(target, options);
