/*
 * The few HTTP chores the dashboard needs, on bare node:http: JSON replies, a bounded JSON body
 * reader, and the mapping from Spool's error codes to statuses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SpoolError } from "../errors.js";

/** An error that already knows the HTTP status it should be answered with. */
export class HttpError extends Error {
  readonly status: number;
  /** Headers the answer must carry, e.g. `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** Largest request body accepted: actions carry a few ids, never payloads. */
const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    // Counts and payloads change every second and may be sensitive: never let a cache keep them.
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

/**
 * Reads a JSON request body that must be an object (`null`, an array or a number is not a
 * request for anything); an empty body reads as `{}`.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, `the request body must be a JSON object, got ${describeJson(body)}`);
  }
  return body as Record<string, unknown>;
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : `a ${typeof value}`;
}

/** Reads a JSON request body; an empty body reads as `{}`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (!type.startsWith("application/json")) throw new HttpError(415, "send the body as application/json");
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
}

/** The status that answers an error thrown while serving a request. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof SpoolError) {
    switch (error.code) {
      case "INVALID_ARGUMENT":
      case "INVALID_NAME":
        return 400;
      case "NOT_FOUND":
        return 404;
      case "CLOSED":
      case "BUSY":
        return 503;
      default:
        return 500;
    }
  }
  return 500;
}
