/*
 * The PostgreSQL backend. The only module tree that loads `pg`, which is an
 * optional peer dependency: the core imports this file lazily, for postgres:// targets only.
 */
export { PostgresBackend } from "./backend.js";
export { openPostgresBackend } from "./open.js";
