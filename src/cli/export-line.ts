/*
 * One export line written from a stored row, without decoding the payload: a JSON payload is
 * stored as JSON.stringify's text, so its bytes go to stdout as they are (no parse, no
 * re-encode, no string of it) once one pass has checked they are (compact-json.ts; a row
 * written by hand or by another tool is re-encoded, or goes as base64 when it is not JSON at
 * all, so a line is always one valid JSON object), and bytes go as base64. A 10 MB job costs one Buffer, not five
 * copies of itself. The line is a job's JSON form (only fields that are set; bytes as base64
 * with an `encoding` marker), byte for byte what JSON.stringify would write of it, with the
 * same terminal-safe escapes (see terminal.ts).
 */
import { isUtf8 } from "node:buffer";
import { PayloadFormat, type StoredJob } from "../backend.js";
import { parseProgress } from "../progress.js";
import { isCompactJson } from "./compact-json.js";
import { safeJson } from "./terminal.js";

/**
 * True when UTF-8 `bytes` hold what safeJson escapes: DEL, a C1 control, U+2028/2029 or a
 * bidirectional control (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069).
 */
function needsEscape(bytes: Buffer): boolean {
  if (bytes.indexOf(0x7f) >= 0) return true;
  for (let i = bytes.indexOf(0xc2); i >= 0; i = bytes.indexOf(0xc2, i + 1)) {
    const next = bytes[i + 1] ?? 0;
    if (next >= 0x80 && next <= 0x9f) return true;
  }
  for (let i = bytes.indexOf(0xd8); i >= 0; i = bytes.indexOf(0xd8, i + 1)) {
    if (bytes[i + 1] === 0x9c) return true;
  }
  for (let i = bytes.indexOf(0xe2); i >= 0; i = bytes.indexOf(0xe2, i + 1)) {
    const second = bytes[i + 1];
    const third = bytes[i + 2] ?? 0;
    if (second === 0x80 && (third === 0x8e || third === 0x8f || (third >= 0xa8 && third <= 0xae)))
      return true;
    if (second === 0x81 && third >= 0xa6 && third <= 0xa9) return true;
  }
  return false;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A stored value as JSON text (Buffer when it can go out untouched), and whether it is base64. */
function valueJson(bytes: Uint8Array, format: PayloadFormat): { json: string | Buffer; base64: boolean } {
  const buffer = asBuffer(bytes);
  if (format === PayloadFormat.Json && isUtf8(buffer) && isCompactJson(buffer)) {
    return { json: needsEscape(buffer) ? safeJson(buffer.toString("utf8")) : buffer, base64: false };
  }
  // Custom bytes, or JSON bytes that are not JSON.stringify's text (written by hand or another tool).
  if (format === PayloadFormat.Custom || format === PayloadFormat.Json) {
    // What the CLI's default codec would make of it: JSON when it reads as JSON, else bytes.
    try {
      return {
        json: safeJson(JSON.stringify(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buffer)))),
        base64: false,
      };
    } catch {
      // Not JSON: fall through to base64.
    }
  }
  return { json: `"${buffer.toString("base64")}"`, base64: true };
}

/**
 * The pieces of one NDJSON export line for `job` (read whole: Queue.listPreviews with no cut),
 * ended by `end` (`list --json` puts its array's separators there instead).
 */
export function exportLine(job: StoredJob, end = "\n"): (string | Buffer)[] {
  const head: Record<string, unknown> = {
    id: job.id,
    queue: job.queue,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
  };
  if (job.key !== null) head.key = job.key;
  if (job.group != null) head.group = job.group;
  if (job.dependsOn !== undefined && job.dependsOn.length > 0) head.dependsOn = job.dependsOn;
  head.createdAt = new Date(job.createdAt).toISOString();
  head.runAt = new Date(job.runAt).toISOString();
  if (job.leaseUntil !== null && job.state === "reserved")
    head.leaseUntil = new Date(job.leaseUntil).toISOString();
  if (job.finishedAt !== null) head.finishedAt = new Date(job.finishedAt).toISOString();
  if (job.lastError !== null) head.lastError = job.lastError;
  const progress = parseProgress(job.progress);
  if (progress !== null) head.progress = progress;
  const parts: (string | Buffer)[] = [safeJson(JSON.stringify(head)).slice(0, -1)];
  if (job.result !== null) {
    const result = valueJson(job.result, job.resultFormat ?? PayloadFormat.Json);
    parts.push(',"result":', result.json);
    if (result.base64) parts.push(',"resultEncoding":"base64"');
  }
  const payload = valueJson(job.payload, job.format);
  parts.push(',"payload":', payload.json, payload.base64 ? `,"encoding":"base64"}${end}` : `}${end}`);
  return parts;
}
