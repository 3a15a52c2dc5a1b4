/** Every code a {@link SpoolError} can carry; the contract fixes this list. */
export type SpoolErrorCode =
  | "CLOSED"
  | "INVALID_ARGUMENT"
  | "INVALID_NAME"
  | "QUEUE_FULL"
  | "PAYLOAD_TOO_LARGE"
  | "ENCODE"
  | "DECODE"
  | "LEASE_LOST"
  | "NOT_FOUND"
  | "BUSY"
  | "STORAGE";

/**
 * The one error class Spool raises. `code` says what went wrong in words a program can switch
 * on; the message names the offending value; `cause` keeps the driver's own error.
 */
export class SpoolError extends Error {
  override readonly name = "SpoolError";
  readonly code: SpoolErrorCode;
  /** Set on `DECODE` (and on job-specific errors): the job the error is about. */
  readonly jobId?: number;

  constructor(code: SpoolErrorCode, message: string, options?: { cause?: unknown; jobId?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.jobId !== undefined) this.jobId = options.jobId;
  }
}

/** Shows a user-supplied value inside an error message without flooding it. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (value instanceof Date)
    return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return "an object";
}

/**
 * The one text a failure is stored as (`lastError`), whoever fails the job (`queue.fail`, a
 * worker, a timeout, a payload that cannot be decoded): the same thrown value always gives the
 * same text. An Error (or anything with a string `message`) gives its message, or its name when
 * that is empty; a string itself; `undefined` "failed"; other values their JSON when they have
 * one, else {@link show}. A NUL byte becomes U+FFFD: PostgreSQL text cannot hold it, and both
 * backends must store the same text; so does a lone surrogate.
 */
export function errorText(error: unknown): string {
  let text: string;
  try {
    text = rawErrorText(error);
  } catch {
    // A hostile value (a message getter that throws): the failure must still be stored.
    text = "an error whose text could not be read";
  }
  // A lone surrogate (half an emoji, a message cut short) becomes U+FFFD here,
  // not whatever each driver makes of it (better-sqlite3 wrote invalid UTF-8 that read back as
  // three U+FFFD, bun:sqlite and PostgreSQL one).
  return text.replaceAll("\0", "\uFFFD").replace(LONE_SURROGATE, "\uFFFD");
}

/** A high surrogate with no low one after it, or a low one with no high one before it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function rawErrorText(error: unknown): string {
  if (error === undefined) return "failed";
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "object" && error !== null) {
    const { message, name } = error as { message?: unknown; name?: unknown };
    if (typeof message === "string") return message || (typeof name === "string" ? name : "Error");
  }
  try {
    const json = JSON.stringify(error);
    if (typeof json === "string") return json;
  } catch {
    // A cycle or a BigInt inside: fall back to the short description.
  }
  return show(error);
}

/**
 * The one LEASE_LOST error, for a holder's complete, fail or extend refused and for a worker's
 * heartbeat that finds the job no longer held. `action` is what could not be done.
 */
export function leaseLostError(queue: string, id: number, action: string): SpoolError {
  return new SpoolError(
    "LEASE_LOST",
    `cannot ${action} job ${id} of queue "${queue}": its lease was lost (it ran out, the job was reserved again, or it was never reserved by this holder)`,
    { jobId: id },
  );
}

/**
 * The one NOT_FOUND error of a holder's complete, fail or extend: the queue has no job `id`.
 * `action` is what could not be done.
 */
export function notFoundError(queue: string, id: number, action: string): SpoolError {
  return new SpoolError("NOT_FOUND", `cannot ${action} job ${id}: queue "${queue}" has no such job`, {
    jobId: id,
  });
}

/**
 * The one DECODE error, for a claimed or received job whose payload the codec refused (the job
 * is dead by then, with the same text as its lastError).
 */
export function decodeError(queue: string, id: number, cause: unknown): SpoolError {
  return new SpoolError(
    "DECODE",
    `job ${id} of queue "${queue}" could not be decoded: ${errorText(cause)}; it is now dead`,
    { cause, jobId: id },
  );
}
