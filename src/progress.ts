// A job's progress: what a handler (`ctx.progress`) or a holder (`queue.progress`) reports, checked
// here before anything is stored, and read back from the store's JSON. A number is a
// percentage (0–100); an object is the application's own, plain JSON of bounded size.
import { SpoolError, show } from "./errors.js";
import type { JobProgress } from "./types.js";

/** The most bytes a progress object may take as JSON (64 KiB): progress is a note, not data. */
export const MAX_PROGRESS_BYTES = 65_536;
/** The deepest nesting a progress object may have. */
const MAX_DEPTH = 32;

function refuse(value: unknown, why: string): SpoolError {
  return new SpoolError(
    "INVALID_ARGUMENT",
    `progress must be a finite number from 0 to 100 or a plain JSON object, got ${show(value)}: ${why}`,
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws unless `value` is exactly JSON: nothing JSON.stringify would drop, change or choke on. */
function checkJson(top: unknown, value: unknown, depth: number, open: Set<object>): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw refuse(top, `it holds ${value}, which JSON cannot hold`);
    return;
  }
  if (typeof value !== "object") throw refuse(top, `it holds a ${typeof value}, which is not JSON`);
  if (open.has(value)) throw refuse(top, "it refers to itself (a cycle)");
  if (depth >= MAX_DEPTH) throw refuse(top, `it nests deeper than ${MAX_DEPTH} levels`);
  if (!Array.isArray(value) && !isPlainObject(value)) {
    throw refuse(top, `it holds a ${value.constructor?.name ?? "non-plain"} object, not plain JSON`);
  }
  open.add(value);
  for (const item of Object.values(value)) checkJson(top, item, depth + 1, open);
  open.delete(value);
}

/** Checks `value` and returns its JSON for the store. */
export function progressJson(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0 || value > 100) throw refuse(value, "a number must be 0–100");
    return JSON.stringify(value);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || !isPlainObject(value)) {
    const kind =
      typeof value === "object" && value !== null
        ? `a ${value.constructor?.name ?? "non-plain"} object, `
        : "";
    throw refuse(value, `${kind}neither a number nor a plain object`);
  }
  checkJson(value, value, 0, new Set());
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_PROGRESS_BYTES) {
    throw refuse(value, `it is ${bytes} bytes as JSON; at most ${MAX_PROGRESS_BYTES} are kept`);
  }
  return json;
}

/** The stored JSON back as a value; null when none was stored (or it is not JSON). */
export function parseProgress(json: string | null): JobProgress | null {
  if (json === null) return null;
  try {
    return JSON.parse(json) as JobProgress;
  } catch {
    return null;
  }
}
