/*
 * Turning jobs and counts into text: aligned tables for people, plain JSON for machines. Binary
 * payloads (Buffers) become base64 in JSON and a size plus a hex preview in tables, so no output
 * ever contains raw bytes that would garble a terminal.
 */
import { PayloadFormat, type StoredJob } from "../backend.js";
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

/** Writes one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(JSON.stringify(value, null, 2))}\n`);
}
