/*
 * Turning jobs and counts into text: aligned tables for people, plain JSON for machines. Binary
 * payloads (Buffers) become base64 in JSON and a size plus a hex preview in tables, so no output
 * ever contains raw bytes that would garble a terminal.
 */
import { PayloadFormat, type StoredJob } from "../backend.js";
import type { JobInfo } from "../types.js";
import { oneLine, safeJson } from "./terminal.js";

export interface Column {
  header: string;
  align?: "left" | "right";
}

/** Pads every cell to its column's width; numbers read best right-aligned. */
export function renderTable(columns: readonly Column[], cells: readonly (readonly string[])[]): string {
  // Cells hold data (errors, payloads, names): shown as characters, never run by the terminal.
  const rows = cells.map((row) => row.map(oneLine));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? "";
        const width = widths[i] ?? 0;
        // The last left-aligned column is not padded, so lines carry no trailing blanks.
        if (c.align === "right") return cell.padStart(width);
        return i === columns.length - 1 ? cell : cell.padEnd(width);
      })
      .join("  ");
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join("\n");
}

/** 350ms, 12s, 4m 10s, 2h 3m, 3d 4h: the two largest units are enough to read an age. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)}s`;
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  const parts: string[] = [];
  let rest = abs;
  for (const [name, size] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) parts.push(`${n}${name}`);
    rest -= n * size;
  }
  return parts.join(" ");
}

/** "in 2.0s" or "3m 10s ago", relative to `now`. */
export function formatWhen(date: Date, now: number): string {
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 1000) return "now";
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A one-line preview of a preview row's payload (Queue.listPreviews: only its first bytes are here), cut to `width` characters. */
export function previewStored(job: StoredJob, width: number): string {
  const size = job.sizes?.payload ?? job.payload.byteLength;
  const bytes = Buffer.from(job.payload.buffer, job.payload.byteOffset, job.payload.byteLength);
  if (job.format === PayloadFormat.Json) {
    const text = bytes.toString("utf8");
    return size > bytes.length && text.length <= width
      ? `${text.slice(0, Math.max(0, width - 1))}…`
      : truncate(text, width);
  }
  const what = job.format === PayloadFormat.Bytes ? "binary" : "encoded";
  const hex = bytes.subarray(0, Math.max(1, Math.ceil(width / 3))).toString("hex");
  return truncate(`<${formatBytes(size)} ${what}> ${hex.replace(/(..)(?=.)/g, "$1 ")}`, width);
}

export function truncate(text: string, width: number): string {
  if (width < 1) return "";
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** A payload (or result) as JSON: bytes become base64 with an `encoding` marker beside them. */
export function encodeValue(value: unknown): { value: unknown; base64: boolean } {
  if (isBytes(value)) return { value: Buffer.from(value).toString("base64"), base64: true };
  return { value, base64: false };
}

/**
 * The JSON form of a job, used by `list --json` and `export`. Only fields that are set appear;
 * a binary payload is `"payload": "<base64>", "encoding": "base64"`.
 */
export function jobToJson(job: JobInfo<unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: job.id,
    queue: job.queue,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
  };
  if (job.key !== undefined) out.key = job.key;
  out.createdAt = job.createdAt.toISOString();
  out.runAt = job.runAt.toISOString();
  if (job.leaseUntil !== undefined) out.leaseUntil = job.leaseUntil.toISOString();
  if (job.finishedAt !== undefined) out.finishedAt = job.finishedAt.toISOString();
  if (job.lastError !== undefined) out.lastError = job.lastError;
  if (job.result !== undefined) {
    const result = encodeValue(job.result);
    out.result = result.value;
    if (result.base64) out.resultEncoding = "base64";
  }
  const payload = encodeValue(job.payload);
  out.payload = payload.value;
  if (payload.base64) out.encoding = "base64";
  return out;
}

/** Writes one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(JSON.stringify(value, null, 2))}\n`);
}
