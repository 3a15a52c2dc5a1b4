/*
 * Translation of node-postgres and server errors into SpoolError at the backend's edge, so the
 * core and users only ever see the contract's codes. Messages keep the server's own words
 * (they say what is wrong) but never a password.
 */
import { SpoolError } from "../../errors.js";
import { redactTarget, redactText, secretsOf } from "../../redact.js";
import { closedError } from "../shared.js";

/** SQLSTATEs that mean "someone else held a lock too long" rather than a broken store. */
const BUSY_STATES = new Set([
  "55P03", // lock_not_available: lock_timeout ran out
  "57014", // query_canceled: statement_timeout ran out
  "40P01", // deadlock_detected (retried first; reaching the user means it kept happening)
  "40001", // serialization_failure
]);

/** Socket-level failures: the server is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** Errors worth running the whole transaction again for: nothing was committed. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}

/** Builds the translator for one backend: it knows the target to name and the secret to hide. */
export function makeTranslator(target: string, isClosed: () => boolean) {
  const shown = redactTarget(target);
  const secrets = secretsOf(target);
  const scrub = (text: string) => redactText(text, secrets);

  return function translate(error: unknown, doing: string): SpoolError {
    if (error instanceof SpoolError) return error;
    const e = (error ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof e.code === "string" ? e.code : undefined;
    const words = scrub(typeof e.message === "string" ? e.message : String(error));
    if (isClosed()) return closedError(error);
    if (code !== undefined && BUSY_STATES.has(code)) {
      return new SpoolError("BUSY", `PostgreSQL stayed locked while ${doing} (${words})`, { cause: error });
    }
    if (/timeout exceeded when trying to connect/i.test(words)) {
      return new SpoolError("BUSY", `no PostgreSQL connection became free in time while ${doing}`, {
        cause: error,
      });
    }
    if (code === "53100") {
      return new SpoolError("STORAGE", `the PostgreSQL disk is full while ${doing} (${words})`, {
        cause: error,
      });
    }
    if (code !== undefined && NETWORK_CODES.has(code)) {
      return new SpoolError("STORAGE", `cannot reach PostgreSQL at ${shown} while ${doing}: ${words}`, {
        cause: error,
      });
    }
    return new SpoolError("STORAGE", `PostgreSQL error at ${shown} while ${doing}: ${words}`, {
      cause: error,
    });
  };
}

export type Translate = ReturnType<typeof makeTranslator>;
