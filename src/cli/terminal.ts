/*
 * Text from the store (job errors, payloads, queue names) is written to a terminal, where an
 * escape sequence would retitle the window, clear the screen or hide lines. Every line the CLI
 * prints passes through one of these, so data can only ever show as characters.
 */

/**
 * C0 controls but tab and newline, DEL and C1 controls (0x9b is a one-byte CSI), and the format
 * characters (Unicode category Cf: the bidirectional overrides, isolates and marks such as
 * U+202E, which make a terminal that does bidi show text in another order than it is, and the
 * invisible ones, U+200B, U+FEFF, U+E0001...), and the line and paragraph separators.
 */
const CONTROLS = /(?![\t\n])[\p{Cc}\p{Cf}\u2028\u2029]/gu;
/** The same plus newline and tab, for a table cell or a one-line log entry. */
const CONTROLS_AND_BREAKS = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
/**
 * Characters JSON.stringify leaves raw that a terminal (or a JS line reader) acts on: DEL, C1,
 * the line separators and the bidirectional controls (U+061C, U+200E/F, U+202A–U+202E,
 * U+2066–U+2069). export-line.ts looks for the same set in stored bytes.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `\xNN` for a Latin-1 control, `\uNNNN` or `\u{NNNNN}` for the rest (unambiguous to read). */
function hex(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\u{${code.toString(16)}}`;
}

/** Controls shown as `\xNN`; newlines (and tabs) kept, for messages of several lines. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, hex);
}

/** Everything on one line: newlines and tabs become `\n`, `\t`, other controls `\xNN`. */
export function oneLine(text: string): string {
  return text.replace(CONTROLS_AND_BREAKS, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : hex(c)));
}

/**
 * JSON text (from JSON.stringify, which escapes C0 only) with DEL, C1, the line separators and
 * the bidirectional controls escaped too: the same JSON value, but inert on a terminal.
 */
export function safeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
