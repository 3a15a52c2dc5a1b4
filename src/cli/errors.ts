/*
 * The CLI's two kinds of failure, which decide the exit status: a UsageError (exit 2) is the
 * caller's command line being wrong; a CliError (exit 1) is something going wrong while running
 * a well-formed command. Anything else thrown (a SpoolError, an I/O error) counts as exit 1.
 */

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export class CliError extends Error {
  override readonly name = "CliError";
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Hides the password of every database URL in a text. Every line the CLI writes to stderr goes
 * through this, so a `postgres://user:secret@host` given on the command line is never echoed
 * (driver errors sometimes quote the connection string).
 */
export function scrub(text: string): string {
  return text.replace(/\b(postgres(?:ql)?:\/\/[^:/@\s]*):[^@\s]*@/gi, "$1:***@");
}

/** The message to show for any thrown value, without a stack for errors users expect. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // A SpoolError's message already names the value and what is allowed; the code helps scripts.
    if (error.name === "SpoolError" && typeof code === "string") return `${error.message} (${code})`;
    return error.message;
  }
  return String(error);
}
