/*
 * Talking to the dashboard's API. URLs are relative (the page may be mounted under any path);
 * every POST carries the page's CSRF token in a header a cross-site page cannot set.
 */

const CSRF = document.querySelector('meta[name="spool-csrf"]')?.getAttribute("content") ?? "";

/** A request the server answered with an error status; `message` is the server's own. */
export class RequestError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

async function request(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", headers };
  if (method === "POST") {
    headers["Content-Type"] = "application/json";
    headers["X-Spool-CSRF"] = CSRF;
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new RequestError(data.error || `HTTP ${res.status}`, res.status);
  return data;
}

/** `T` is what the endpoint sends (see wire.ts): trusted, since the server is ours. */
export function getJson<T>(path: string): Promise<T> {
  return request("GET", path) as Promise<T>;
}

export function postJson<T>(path: string, body: unknown): Promise<T> {
  return request("POST", path, body) as Promise<T>;
}

export function queuePath(name: string): string {
  return `api/queues/${encodeURIComponent(name)}`;
}

/** What a failure says, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
