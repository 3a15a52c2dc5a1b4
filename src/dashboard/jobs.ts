/*
 * Turns JobInfo into what the page shows. Payloads and results are user data of any size and
 * shape: JSON is pretty-printed (and capped), bytes become a size plus a hex preview. The page
 * renders all of it with textContent, so nothing here needs HTML escaping.
 */
import type { JobInfo } from "../types.js";

/** A value as the page shows it. */
export type ShownValue =
  | { kind: "json"; text: string; truncated: boolean }
  | { kind: "binary"; size: number; hex: string; truncated: boolean }
  | { kind: "none" };

/** One row of the job browser. */
export interface JobRow {
  id: number;
  state: string;
  attempts: number;
  maxAttempts: number;
  priority: number;
  key: string | null;
  createdAt: number;
  runAt: number;
  finishedAt: number | null;
  lastError: string | null;
  preview: string;
}

/** The detail view: the row plus the whole (capped) payload and result. */
export interface JobDetail extends JobRow {
  queue: string;
  leaseUntil: number | null;
  payload: ShownValue;
  result: ShownValue;
}

const PREVIEW_CHARS = 140;
const ERROR_PREVIEW_CHARS = 200;
/** Enough to read any sane payload; a 64 MiB one would freeze the browser tab. */
const DETAIL_TEXT_CHARS = 256 * 1024;
const HEX_PREVIEW_BYTES = 512;

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** `JSON.stringify` that never throws (results are whatever the handler returned). */
function stringify(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return String(value);
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Hex dump lines of 16 bytes: offset, bytes. */
function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, "0"));
    lines.push(`${at.toString(16).padStart(8, "0")}  ${row.join(" ")}`);
  }
  return lines.join("\n");
}

export function showValue(value: unknown): ShownValue {
  if (value === undefined) return { kind: "none" };
  if (isBytes(value)) {
    return {
      kind: "binary",
      size: value.length,
      hex: hexDump(value.subarray(0, HEX_PREVIEW_BYTES)),
      truncated: value.length > HEX_PREVIEW_BYTES,
    };
  }
  const text = stringify(value, 2);
  return { kind: "json", text: clip(text, DETAIL_TEXT_CHARS), truncated: text.length > DETAIL_TEXT_CHARS };
}

function preview(value: unknown): string {
  if (isBytes(value)) return `<${value.length} bytes>`;
  return clip(stringify(value), PREVIEW_CHARS);
}

export function toRow(job: JobInfo<unknown>): JobRow {
  return {
    id: job.id,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    key: job.key ?? null,
    createdAt: job.createdAt.getTime(),
    runAt: job.runAt.getTime(),
    finishedAt: job.finishedAt?.getTime() ?? null,
    lastError: job.lastError === undefined ? null : clip(job.lastError, ERROR_PREVIEW_CHARS),
    preview: preview(job.payload),
  };
}

export function toDetail(job: JobInfo<unknown>): JobDetail {
  return {
    ...toRow(job),
    queue: job.queue,
    lastError: job.lastError ?? null,
    leaseUntil: job.leaseUntil?.getTime() ?? null,
    payload: showValue(job.payload),
    result: showValue(job.result),
  };
}
