/*
 * Turns JobInfo into what the page shows. Payloads and results are user data of any size and
 * shape: JSON is pretty-printed (and capped), bytes become a size plus a hex preview. The page
 * renders all of it with textContent, so nothing here needs HTML escaping.
 */
import { PayloadFormat, type StoredJob } from "../backend.js";
import type { DependenciesShown } from "../dependency-view.js";
import type { JobInfo, JobState } from "../types.js";

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
  /** The job's group (AddOptions.group), or null. */
  group: string | null;
  createdAt: number;
  runAt: number;
  finishedAt: number | null;
  lastError: string | null;
  preview: string;
}

/** One dependency of a job as the detail view shows it (see dependency-view.ts). */
export interface DependencyRow {
  id: number;
  /** True once it completed. */
  done: boolean;
  /** Where it is, and its state; null when it is no longer stored (or was not looked for). */
  queue: string | null;
  state: JobState | null;
}

/** What a job depends on: every one counted, the first MAX_DEPENDENCIES listed. */
export interface JobDependencies {
  total: number;
  done: number;
  items: DependencyRow[];
  /** How many are not listed (total − items). */
  more: number;
}

/** The detail view: the row plus the whole (capped) payload and result. */
export interface JobDetail extends JobRow {
  queue: string;
  leaseUntil: number | null;
  payload: ShownValue;
  result: ShownValue;
  /** The job's progress as shown: "42%", or its JSON (capped); null when none was reported. */
  progress: string | null;
  /** The jobs it depends on (AddOptions.dependsOn), or null when it has none. */
  dependencies: JobDependencies | null;
}

/**
 * Dependencies listed (with queue and state) in a job's detail: a job may depend on 10,000, and
 * the answer stays small; the rest are counted.
 */
export const MAX_DEPENDENCIES = 50;

const PREVIEW_CHARS = 140;
const ERROR_PREVIEW_CHARS = 200;
/**
 * Bytes of payload and characters of error the list reads per job: cut by the store's query,
 * so a page of 10 MB jobs moves kilobytes. Enough for PREVIEW_CHARS of any UTF-8 text.
 */
export const PREVIEW_BYTES = 4 * PREVIEW_CHARS;
/** The detail view's last error: like a payload, enough to read and never the whole 10 MB. */
const DETAIL_ERROR_CHARS = 64 * 1024;
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
    group: job.group ?? null,
    createdAt: job.createdAt.getTime(),
    runAt: job.runAt.getTime(),
    finishedAt: job.finishedAt?.getTime() ?? null,
    lastError: job.lastError === undefined ? null : clip(job.lastError, ERROR_PREVIEW_CHARS),
    preview: preview(job.payload),
  };
}

/** A row of the job list from a preview (see Queue.listPreviews): the payload was cut in the store. */
export function toPreviewRow(job: StoredJob): JobRow {
  const sizes = job.sizes ?? { payload: job.payload.length, result: null, lastError: null };
  let shown: string;
  if (job.format === PayloadFormat.Json) {
    // Stored JSON is JSON.stringify's text, so its first bytes are the preview; a cut may split
    // a character, which decodes as U+FFFD at the very end and is clipped away below.
    const text = Buffer.from(job.payload.buffer, job.payload.byteOffset, job.payload.byteLength).toString(
      "utf8",
    );
    const cut = sizes.payload > job.payload.length;
    shown = cut || text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  } else {
    shown = `<${sizes.payload} bytes>`;
  }
  const errorCut = (sizes.lastError ?? 0) > ERROR_PREVIEW_CHARS;
  return {
    id: job.id,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    key: job.key,
    group: job.group ?? null,
    createdAt: job.createdAt,
    runAt: job.runAt,
    finishedAt: job.finishedAt,
    lastError:
      job.lastError === null
        ? null
        : `${job.lastError.slice(0, ERROR_PREVIEW_CHARS)}${errorCut || job.lastError.length > ERROR_PREVIEW_CHARS ? "…" : ""}`,
    preview: shown,
  };
}

export function toDetail(job: JobInfo<unknown>, deps: DependenciesShown | null = null): JobDetail {
  return {
    ...toRow(job),
    queue: job.queue,
    lastError: job.lastError === undefined ? null : clip(job.lastError, DETAIL_ERROR_CHARS),
    leaseUntil: job.leaseUntil?.getTime() ?? null,
    payload: showValue(job.payload),
    result: showValue(job.result),
    progress: showProgress(job.progress),
    dependencies:
      deps === null || deps.total === 0
        ? null
        : { total: deps.total, done: deps.done, items: deps.items, more: deps.total - deps.items.length },
  };
}

function showProgress(progress: JobInfo<unknown>["progress"]): string | null {
  if (progress === null) return null;
  return typeof progress === "number" ? `${progress}%` : clip(stringify(progress), DETAIL_TEXT_CHARS);
}
