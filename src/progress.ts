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

/**
 * A plain copy of `value`, read once (a getter or a Proxy answers once, and what is stored is
 * what was checked), refusing whatever JSON.stringify would drop, change or choke on: non-finite
 * numbers, functions, symbols, BigInts, class instances, a toJSON, cycles, depth past MAX_DEPTH.
 * `size` counts a lower bound of the JSON's bytes as it goes, so a huge value is refused early
 * instead of being walked whole first.
 */
class ProgressCopy {
  private readonly open = new Set<object>();
  private size = 0;

  constructor(private readonly top: unknown) {}

  copy(value: unknown, depth: number): unknown {
    if (++this.size > MAX_PROGRESS_BYTES) throw this.tooLarge();
    if (value === null || typeof value === "boolean") return value;
    if (typeof value === "string") {
      this.size += value.length;
      if (this.size > MAX_PROGRESS_BYTES) throw this.tooLarge();
      return value;
    }
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw refuse(this.top, `it holds ${value}, which JSON cannot hold`);
      return value;
    }
    if (typeof value !== "object") throw refuse(this.top, `it holds a ${typeof value}, which is not JSON`);
    if (this.open.has(value)) throw refuse(this.top, "it refers to itself (a cycle)");
    if (depth >= MAX_DEPTH) throw refuse(this.top, `it nests deeper than ${MAX_DEPTH} levels`);
    const array = Array.isArray(value);
    if (!array && !isPlainObject(value)) {
      throw refuse(this.top, `it holds a ${value.constructor?.name ?? "non-plain"} object, not plain JSON`);
    }
    if ((value as { toJSON?: unknown }).toJSON !== undefined) {
      throw refuse(this.top, "it holds an object with a toJSON, not plain JSON");
    }
    this.open.add(value);
    let out: unknown;
    if (array) {
      const items = value as unknown[];
      const length = items.length;
      if (length > MAX_PROGRESS_BYTES) throw this.tooLarge();
      const copy = new Array<unknown>(length);
      for (let i = 0; i < length; i++) copy[i] = this.copy(items[i], depth + 1);
      out = copy;
    } else {
      const record = value as Record<string, unknown>;
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(record)) {
        this.size += key.length;
        const item = this.copy(record[key], depth + 1);
        // Assigned, "__proto__" would set the copy's prototype instead of a key.
        Object.defineProperty(copy, key, {
          value: item,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out = copy;
    }
    this.open.delete(value);
    return out;
  }

  private tooLarge(): SpoolError {
    return refuse(this.top, `it is larger than ${MAX_PROGRESS_BYTES} bytes as JSON, at most that is kept`);
  }
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
  const json = JSON.stringify(new ProgressCopy(value).copy(value, 0));
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
