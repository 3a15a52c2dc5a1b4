// Payload codecs: turn user values into bytes plus a format tag, and back. The tag lets the
// default codec return a Buffer for bytes and a JSON value for everything else.
import { isAnyArrayBuffer, isProxy } from "node:util/types";
import { PayloadFormat, type StoredResult } from "./backend.js";
import { SpoolError, show } from "./errors.js";
import type { Codec, CodecOption } from "./types.js";

export interface Encoded {
  bytes: Uint8Array;
  format: PayloadFormat;
}

/** The core's view of a codec: encode tags its bytes; decode knows every tag. */
export interface PayloadCodec<T> {
  encode(value: T): Encoded;
  decode(bytes: Uint8Array, format: PayloadFormat): T;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The JSON encoder's walk (see encodeJson). Plain data (strings, numbers, booleans, null,
 * undefined, arrays and objects of Array's or Object's prototype, or none, without toJSON) is
 * copied as it is read; anything else (a Date, a Map, a class instance, a Proxy, a toJSON, a
 * BigInt, a function, a key named __proto__, whatever lies past the depth or the budget) is
 * kept as it is in the copy, and `mixed` set, for the refusing replacer to judge. Every value
 * of the caller's is thus read exactly once, by the walk or by JSON.stringify, never by both:
 * a getter cannot answer the check one thing and the encoder another.
 */
class PlainCopy {
  mixed = false;
  /** Values the walk may still copy: past it, the rest goes to the replacer as it is. */
  private budget = 4096;

  copy(value: unknown, depth: number): unknown {
    const type = typeof value;
    if (--this.budget < 0) return this.keep(value);
    if (
      value === null ||
      type === "string" ||
      type === "number" ||
      type === "boolean" ||
      type === "undefined"
    )
      return value;
    // Typed arrays and buffers are told by their internal slots, whatever their prototype says.
    if (
      type !== "object" ||
      depth === 0 ||
      isProxy(value) ||
      ArrayBuffer.isView(value) ||
      isAnyArrayBuffer(value)
    ) {
      return this.keep(value);
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Array.prototype) {
      const array = value as unknown[] & { toJSON?: unknown };
      if (array.toJSON !== undefined || array.length > this.budget) return this.keep(value);
      const out = new Array<unknown>(array.length);
      for (let i = 0; i < out.length; i++) out[i] = this.copy(array[i], depth - 1);
      return out;
    }
    if (proto !== Object.prototype && proto !== null) return this.keep(value);
    const record = value as Record<string, unknown>;
    if (record.toJSON !== undefined) return this.keep(value);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      // Assigned, "__proto__" would set the copy's prototype instead of a key: keep it whole.
      if (key === "__proto__") return this.keep(value);
      out[key] = this.copy(record[key], depth - 1);
    }
    return out;
  }

  private keep(value: unknown): unknown {
    this.mixed = true;
    return value;
  }
}

/**
 * JSON.stringify that refuses what JSON cannot hold instead of silently dropping it. Plain data
 * skips the refusing replacer, a call from the engine into JS for every key and value: on a
 * small payload the replacer cost about three times the copy, an eighth of a whole batch add.
 */
export function encodeJson(value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    const walk = new PlainCopy();
    const copy = walk.copy(value, 64);
    text = walk.mixed ? stringifyChecked(copy) : JSON.stringify(copy);
  } catch (cause) {
    throw new SpoolError("ENCODE", `payload cannot be encoded as JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (text === undefined) {
    throw new SpoolError("ENCODE", `payload ${show(value)} cannot be encoded as JSON: use null or a value`);
  }
  return Buffer.from(text, "utf8");
}

/** JSON.stringify with a replacer that throws on every value JSON would drop or mangle. */
function stringifyChecked(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") throw new TypeError("a BigInt cannot be stored as JSON");
    if (typeof v === "function" || typeof v === "symbol") {
      throw new TypeError(`a ${typeof v} cannot be stored as JSON`);
    }
    // JSON would keep these as {} (or an index-keyed object): the data silently gone.
    if (v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet) {
      throw new TypeError(`a ${kindOf(v)} cannot be stored as JSON: convert it first`);
    }
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer || ArrayBuffer.isView(v)) {
      throw new TypeError(
        `a ${kindOf(v)} cannot be stored as JSON: pass a Buffer or Uint8Array (stored as bytes)`,
      );
    }
    return v;
  });
}

export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(utf8.decode(bytes));
}

/**
 * A private copy of caller-owned bytes: a payload is encoded at the call, and the caller may
 * rewrite its Buffer (or a codec reuse its output) before the group commit writes it.
 */
function copied(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const defaultCodec: PayloadCodec<unknown> = {
  encode(value) {
    if (value instanceof Uint8Array) return { bytes: copied(value), format: PayloadFormat.Bytes };
    return { bytes: encodeJson(value), format: PayloadFormat.Json };
  },
  decode(bytes, format) {
    return format === PayloadFormat.Bytes ? asBuffer(bytes) : decodeJson(bytes);
  },
};

const jsonCodec: PayloadCodec<unknown> = {
  encode: (value) => ({ bytes: encodeJson(value), format: PayloadFormat.Json }),
  decode: (bytes) => decodeJson(bytes),
};

const binaryCodec: PayloadCodec<unknown> = {
  encode(value) {
    if (!(value instanceof Uint8Array)) {
      throw new SpoolError("ENCODE", `the "binary" codec takes a Buffer or Uint8Array, got ${show(value)}`);
    }
    return { bytes: copied(value), format: PayloadFormat.Bytes };
  },
  decode: (bytes) => asBuffer(bytes),
};

function customCodec<T>(codec: Codec<T>): PayloadCodec<T> {
  return {
    encode(value) {
      let bytes: unknown;
      try {
        bytes = codec.encode(value);
      } catch (cause) {
        throw new SpoolError(
          "ENCODE",
          `the codec could not encode the payload: ${(cause as Error)?.message}`,
          {
            cause,
          },
        );
      }
      if (!(bytes instanceof Uint8Array)) {
        throw new SpoolError("ENCODE", `codec.encode must return a Uint8Array, got ${show(bytes)}`);
      }
      return { bytes: copied(bytes), format: PayloadFormat.Custom };
    },
    decode: (bytes) => codec.decode(bytes),
  };
}

export function resolveCodec<T>(option: CodecOption<T> | undefined): PayloadCodec<T> {
  if (option === undefined) return defaultCodec as PayloadCodec<T>;
  if (option === "json") return jsonCodec as PayloadCodec<T>;
  if (option === "binary") return binaryCodec as PayloadCodec<T>;
  if (
    typeof option === "object" &&
    option !== null &&
    typeof option.encode === "function" &&
    typeof option.decode === "function"
  ) {
    return customCodec(option);
  }
  throw new SpoolError(
    "INVALID_ARGUMENT",
    `codec must be "json", "binary" or { encode, decode }, got ${show(option)}`,
  );
}

/** Results are stored with the default codec whatever the payload codec is. */
export function encodeResult(value: unknown): StoredResult | null {
  if (value === undefined) return null;
  return defaultCodec.encode(value);
}

export function decodeResult(result: StoredResult | null): unknown {
  if (result === null) return undefined;
  try {
    return defaultCodec.decode(result.bytes, result.format);
  } catch {
    return asBuffer(result.bytes);
  }
}

/** The payload for get/list: decoded when possible, raw bytes otherwise (never throws). */
export function decodeLenient<T>(
  codec: PayloadCodec<T>,
  bytes: Uint8Array,
  format: PayloadFormat,
): T | Buffer {
  try {
    return codec.decode(bytes, format);
  } catch {
    return asBuffer(bytes);
  }
}

/** What a refused value is, by its internal tag ("Map", "Uint8Array"), whatever its prototype. */
function kindOf(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}
