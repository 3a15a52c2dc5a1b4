/*
 * The CLI's two kinds of failure, which decide the exit status: a UsageError (exit 2) is the
 * caller's command line being wrong; a CliError (exit 1) is something going wrong while running
 * a well-formed command. Anything else thrown (a SpoolError, an I/O error) counts as exit 1.
 */
import { errorText } from "../errors.js";
import { redactText } from "../redact.js";
import { escapeControls } from "./terminal.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export class CliError extends Error {
  override readonly name = "CliError";
}

/** A CliError that ends the command with its own status (an interrupted import: 130 or 143). */
export class InterruptedError extends CliError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Stopped by SIGINT (Ctrl-C) or SIGTERM: 128 + the signal's number, as shells report it. */
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

/**
 * What the CLI may print of a text: no database password (in any form: user:pass@, ?password=,
 * the secrets of every URL on the command line, see src/redact.ts) and no terminal control
 * characters. Every line the CLI writes to stderr goes through this.
 */
export function scrub(text: string): string {
  return escapeControls(redactText(text));
}

/**
 * The message to show for any thrown value, without a stack for errors users expect. Total: a
 * handler may throw anything (Object.create(null), an object whose toString throws), and the
 * line that reports it must still be written; what is not an Error reads as the library stores
 * it (errorText, the job's lastError).
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      const message = String(error.message);
      // A SpoolError's message already names the value and what is allowed; the code helps scripts.
      if (error.name === "SpoolError" && typeof code === "string") return `${message} (${code})`;
      return message;
    }
  } catch {
    // A hostile Error (a message getter that throws): described as the library would store it.
  }
  try {
    return errorText(error);
  } catch {
    return "an error whose text could not be read";
  }
}
