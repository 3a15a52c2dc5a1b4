/*
 * Whether stored bytes are JSON.stringify's text, checked without decoding them: exactly one JSON
 * value, no whitespace between tokens, no raw control character inside a string. The export
 * writes such bytes as they are; anything else (a row written by hand or by another tool: a raw
 * newline would split one job into two NDJSON lines, `1,"priority":99` would add a field) is
 * re-encoded first. One pass over the bytes, memory of one byte per nesting level.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** The characters a backslash may escape besides `u`: " \ / b f n r t. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

/** The index after the string starting at `i` (a quote), or -1 when it is not one. */
function skipString(b: Uint8Array, i: number): number {
  for (let j = i + 1; j < b.length; ) {
    const c = b[j] as number;
    if (c === QUOTE) return j + 1;
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) {
      j++;
      continue;
    }
    const next = b[j + 1];
    if (next !== undefined && SIMPLE_ESCAPES.has(next)) j += 2;
    else if (next === 0x75 && isHex(b[j + 2]) && isHex(b[j + 3]) && isHex(b[j + 4]) && isHex(b[j + 5]))
      j += 6;
    else return -1;
  }
  return -1;
}

/** The index after the number starting at `i`, or -1: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
function skipNumber(b: Uint8Array, i: number): number {
  let j = i;
  if (b[j] === 0x2d) j++;
  if (b[j] === 0x30) j++;
  else if (isDigit(b[j])) while (isDigit(b[j])) j++;
  else return -1;
  if (b[j] === 0x2e) {
    j++;
    if (!isDigit(b[j])) return -1;
    while (isDigit(b[j])) j++;
  }
  if (b[j] === 0x65 || b[j] === 0x45) {
    j++;
    if (b[j] === 0x2b || b[j] === 0x2d) j++;
    if (!isDigit(b[j])) return -1;
    while (isDigit(b[j])) j++;
  }
  return j;
}

function skipWord(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** The index after the scalar value (string, number, literal) at `i`, or -1. */
function skipScalar(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === 0x74) return skipWord(b, i, "true");
  if (c === 0x66) return skipWord(b, i, "false");
  if (c === 0x6e) return skipWord(b, i, "null");
  return skipNumber(b, i);
}

/** True when `b` is one JSON value written compactly (as JSON.stringify writes it). */
export function isCompactJson(b: Uint8Array): boolean {
  // The open containers, innermost last: one byte each, grown when nesting is deep.
  let stack = new Uint8Array(64);
  let depth = 0;
  let i = 0;
  /** What comes next: a value, a value or `]` (after `[`), a key or `}` (after `{`), a key. */
  let expect: "value" | "valueOrClose" | "keyOrClose" | "key" = "value";
  for (;;) {
    const c = b[i];
    if (c === undefined) return false;
    if ((expect === "valueOrClose" && c === CLOSE_ARRAY) || (expect === "keyOrClose" && c === CLOSE_OBJECT)) {
      depth--;
      i++;
    } else if (expect === "key" || expect === "keyOrClose") {
      if (c !== QUOTE) return false;
      i = skipString(b, i);
      if (i < 0 || b[i] !== COLON) return false;
      i++;
      expect = "value";
      continue;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      stack[depth++] = c;
      i++;
      expect = c === OPEN_OBJECT ? "keyOrClose" : "valueOrClose";
      continue;
    } else {
      i = skipScalar(b, i);
      if (i < 0) return false;
    }
    // After a value: the end (at the top), a comma, or the close of its container.
    for (;;) {
      if (depth === 0) return i === b.length;
      const inObject = stack[depth - 1] === OPEN_OBJECT;
      if (b[i] === COMMA) {
        i++;
        expect = inObject ? "key" : "value";
        break;
      }
      if (b[i] !== (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) return false;
      depth--;
      i++;
    }
  }
}
