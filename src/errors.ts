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
