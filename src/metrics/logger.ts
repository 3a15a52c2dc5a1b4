// The Spool's logger: pino's shape, `{ debug, info, warn, error }(obj, msg)`, so pino, a pino
// child, or any object with those four methods fits. Silent by default. Nothing logged carries
// a payload or a password: only queue names, job ids, attempts and error texts (redacted).
import { SpoolError, show } from "../errors.js";
import { redactText } from "../redact.js";
import type { SpoolLogger } from "./logger-type.js";

export type { SpoolLogger } from "./logger-type.js";

const LEVELS = ["debug", "info", "warn", "error"] as const;
const nothing = () => {};

/** The default: logs nothing. */
export const silentLogger: SpoolLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };

/** Spool.open's `logger`, checked: an object with the four methods, or the silent default. */
export function checkLogger(value: unknown): SpoolLogger {
  if (value === undefined) return silentLogger;
  const missing =
    value === null || typeof value !== "object"
      ? LEVELS
      : LEVELS.filter((level) => typeof (value as Record<string, unknown>)[level] !== "function");
  if (missing.length > 0) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `logger must be an object with debug, info, warn and error methods (pino's shape), got ${show(value)}${value !== null && typeof value === "object" ? ` without ${missing.join(", ")}` : ""}`,
    );
  }
  return guarded(value as SpoolLogger);
}

/**
 * The user's logger behind a guard: a method that throws, or returns a promise that rejects, is
 * ignored. Every call site (workers, listeners in pg's event handlers, file watches) logs
 * through it, and logging must never break what it reports on.
 */
function guarded(logger: SpoolLogger): SpoolLogger {
  const call =
    (level: (typeof LEVELS)[number]) =>
    (obj: Record<string, unknown>, msg: string): void => {
      try {
        const returned: unknown = logger[level](obj, msg);
        if (returned !== null && typeof (returned as { then?: unknown })?.then === "function") {
          (returned as PromiseLike<unknown>).then(undefined, nothing);
        }
      } catch {
        // A broken logger must not break the caller.
      }
    };
  return { debug: call("debug"), info: call("info"), warn: call("warn"), error: call("error") };
}

/**
 * Logs `error` at `level` with its context: the queue, and the job and attempt when known. A
 * logger that throws is ignored (logging must never break the worker).
 */
export function logError(
  logger: SpoolLogger,
  level: "warn" | "error",
  msg: string,
  error: unknown,
  context: { queue?: string; jobId?: number; attempt?: number },
): void {
  if (logger === silentLogger) return;
  try {
    const obj: Record<string, unknown> = { ...context };
    if (error instanceof SpoolError) {
      obj.code = error.code;
      if (obj.jobId === undefined && error.jobId !== undefined) obj.jobId = error.jobId;
    }
    obj.err = redactText(error instanceof Error ? String(error.message) : show(error));
    logger[level](obj, msg);
  } catch {
    // A broken logger, or an error whose message cannot be read, must not break the worker.
  }
}
