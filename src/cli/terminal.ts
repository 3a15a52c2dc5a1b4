/*
 * Text from the store (job errors, payloads, queue names) is written to a terminal, where an
 * escape sequence would retitle the window, clear the screen or hide lines. Every line the CLI
 * prints passes through one of these, so data can only ever show as characters.
 */

/**
 * C0 controls but tab and newline, DEL, and C1 controls (0x9b is a one-byte CSI), written as
 * "everything but the printable ranges".
 */
const CONTROLS = /[^\t\n\u0020-\u007e\u00a0-\uffff]/g;
/** The same plus newline and tab, for a table cell or a one-line log entry. */
const CONTROLS_AND_BREAKS = /[^\u0020-\u007e\u00a0-\uffff]/g;
/** Characters JSON.stringify leaves raw that a terminal (or a JS line reader) acts on. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
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
 * JSON text (from JSON.stringify, which escapes C0 only) with DEL, C1 and the line separators
 * escaped too: the same JSON value, but inert on a terminal.
 */
export function safeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
