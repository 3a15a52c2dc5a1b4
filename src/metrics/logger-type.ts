// The logger's shape alone (no imports): types.ts names it, and the dashboard's browser code
// reads types.ts.

/** A logger in pino's shape: each method takes a context object and a message. */
export interface SpoolLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}
