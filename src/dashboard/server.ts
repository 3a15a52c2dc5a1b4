/*
 * The dashboard's HTTP side: `dashboard()` is a plain Node request handler a user mounts in
 * their own server; `startDashboard()` serves it alone on node:http (what `spool dashboard`
 * runs). Every request passes, in order: the Host allow-list, the token (when one is set),
 * routing, and for a mutation the CSRF check.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces, hostname as osHostname } from "node:os";
import { SpoolError } from "../errors.js";
import { isPostgresTarget, splitSchemaParam } from "../open.js";
import { Spool } from "../spool.js";
import { handleApi } from "./api.js";
import { appScript, STYLE_CSS } from "./assets/index.js";
import { renderPage } from "./assets/page.js";
import { HttpError, sendJson, sendText, statusOf } from "./http.js";
import { serveMetrics } from "./metrics-route.js";
import {
  applySecurityHeaders,
  csrfProblem,
  HostPolicy,
  isLoopbackHost,
  newCsrfToken,
  TokenGate,
} from "./security.js";
import { ThroughputSampler } from "./throughput.js";

export interface DashboardOptions {
  /** URL path the handler answers under, e.g. "/spool". Not needed where a router strips it. @default "" */
  basePath?: string;
  /** When set, every request must carry it (Bearer header, or the cookie `?token=` sets). */
  token?: string;
  /**
   * Host header values accepted: "name" (any port), "name:port", or "*" for any (only behind a
   * proxy that checks Host itself). Guards against DNS rebinding.
   * @default ["localhost", "127.0.0.1", "[::1]"]
   */
  allowedHosts?: readonly string[];
}

/** A request handler that also stops its background sampling when you are done with it. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

/**
 * The dashboard as a Node request handler over an open Spool.
 * @example http.createServer(dashboard(spool, { basePath: "/spool" })).listen(8080, "127.0.0.1")
 */
export function dashboard(spool: Spool, options: DashboardOptions = {}): DashboardHandler {
  const basePath = normalizeBasePath(options.basePath ?? "");
  if (options.token === "") throw new SpoolError("INVALID_ARGUMENT", "dashboard token must not be empty");
  const gate = options.token === undefined ? null : new TokenGate(options.token);
  const hosts = options.allowedHosts ? new HostPolicy(options.allowedHosts) : HostPolicy.loopback();
  const csrf = newCsrfToken();
  const sampler = new ThroughputSampler(spool);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        const headers = error instanceof HttpError ? error.headers : {};
        sendJson(
          res,
          statusOf(error),
          { error: error instanceof Error ? error.message : String(error) },
          headers,
        );
      }
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    applySecurityHeaders(res);
    if (!hosts.allows(req.headers.host)) {
      return sendText(
        res,
        403,
        "This dashboard does not answer to that Host header (DNS rebinding guard).\n",
      );
    }
    const url = requestUrl(req.url);
    if (url === null) return sendText(res, 400, "Bad request: the request target is not a path.\n");
    if (basePath !== "" && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
      return sendText(res, 404, "Not found\n");
    }
    const rest = url.pathname.slice(basePath.length);
    // Where the browser sees us: Express and friends strip their mount path from req.url.
    const seen = (requestUrl((req as { originalUrl?: string }).originalUrl ?? req.url) ?? url).pathname;
    let mount = basePath;
    if (seen.endsWith(rest)) mount = seen.slice(0, seen.length - rest.length);
    // A router turned "/x" into "/": the mount is all of what the browser asked for.
    else if (rest === "/") mount = seen.replace(/\/$/, "");

    if (gate !== null) {
      const offered = url.searchParams.get("token");
      if (offered !== null && (req.method === "GET" || req.method === "HEAD")) {
        if (!gate.matches(offered)) return sendText(res, 401, "Wrong token.\n");
        // Trade the token in the address bar for a cookie, then drop it from the URL (and history).
        // The cookie covers the mount path itself, with or without its trailing slash, and the
        // redirect goes where the page is served (the mount path with its slash), so a login at
        // `/admin/queues?token=…` lands on the page, not on a 401.
        url.searchParams.delete("token");
        const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
        res.setHeader("Set-Cookie", gate.sessionCookie(mount === "" ? "/" : mount, secure));
        const landing = rest === "" || rest === "/" ? `${mount}/` : seen;
        res.writeHead(303, { Location: `${landing}${url.search}` });
        return void res.end();
      }
      if (!gate.admits(req)) {
        return sendText(
          res,
          401,
          "This dashboard needs its token: open it once with ?token=<token>, or send Authorization: Bearer <token>.\n",
          { "WWW-Authenticate": 'Bearer realm="spool dashboard"' },
        );
      }
    }

    if (rest === "" || (rest === "/" && !seen.endsWith("/"))) {
      // The page uses relative URLs, so it must be served from a path ending in "/".
      res.writeHead(308, { Location: `${mount}/${url.search}` });
      return void res.end();
    }
    if (rest.startsWith("/api/")) {
      if (req.method === "POST") {
        const problem = csrfProblem(req, csrf);
        if (problem !== null) return sendJson(res, 403, { error: `refused: ${problem}` });
      }
      const path = rest.slice("/api/".length).split("/");
      return sendJson(res, 200, await handleApi({ spool, sampler }, req, path, url.searchParams));
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "use GET here", { Allow: "GET, HEAD" });
    }
    if (rest === "/") return sendAsset(res, "text/html", renderPage(csrf));
    if (rest === "/app.js") return sendAsset(res, "text/javascript", await appScript());
    if (rest === "/style.css") return sendAsset(res, "text/css", STYLE_CSS);
    if (rest === "/metrics") return serveMetrics(spool, res);
    return sendText(res, 404, "Not found\n");
  }

  return Object.assign(handler, { close: () => sampler.stop() });
}

function sendAsset(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, {
    "Content-Type": `${type}; charset=utf-8`,
    "Content-Length": Buffer.byteLength(body),
    // The page embeds this process's CSRF token: revalidate rather than reuse a stale copy.
    "Cache-Control": "no-cache",
  });
  res.end(body);
}

function normalizeBasePath(path: string): string {
  if (path === "" || path === "/") return "";
  if (!path.startsWith("/") || /[?#\s]/.test(path)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `basePath must be a URL path like "/spool", got ${JSON.stringify(path)}`,
    );
  }
  return path.replace(/\/+$/, "");
}

export interface StartDashboardOptions {
  /** TCP port; 0 picks a free one. @default 7070 */
  port?: number;
  /** Address to bind. Anything but loopback requires a token. @default "127.0.0.1" */
  host?: string;
  /** Required on every request when set. @default process.env.SPOOL_DASHBOARD_TOKEN */
  token?: string;
  /** Extra Host header values to accept, e.g. the DNS name of this machine (see DashboardOptions). */
  allowedHosts?: readonly string[];
}

export interface RunningDashboard {
  /** Where it serves, e.g. "http://127.0.0.1:7070/" (without the token). */
  url: string;
  /** Stops serving; closes the Spool too when it was opened from a target string. */
  close(): Promise<void>;
}

/**
 * Serves the dashboard on its own HTTP server. Give a target (file path or postgres:// URL) to
 * have it open and own the Spool, or an open Spool that stays yours to close.
 */
/** Opens a target as `spool dashboard` does: as it is, with a URL's `?schema=` honoured. */
function openViewed(target: string): Promise<Spool> {
  const options = { create: false, migrate: false };
  const split = isPostgresTarget(target) ? splitSchemaParam(target) : null;
  if (split?.schema == null) return Spool.open(target, options);
  return Spool.open(split.url, { ...options, schema: split.schema });
}

export async function startDashboard(
  target: string | Spool,
  options: StartDashboardOptions = {},
): Promise<RunningDashboard> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 7070;
  const token = options.token || process.env.SPOOL_DASHBOARD_TOKEN || undefined;
  if (!isLoopbackHost(host) && token === undefined) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `refusing to serve the dashboard on ${host} without a token: anyone who can reach it could read payloads and delete jobs. Set a token (option token, --token, or SPOOL_DASHBOARD_TOKEN) or bind to 127.0.0.1.`,
    );
  }
  // A viewer opens an existing store as it is: a mistyped path creates nothing, and an older
  // store is refused, never upgraded under the application that runs on it (as `spool dashboard`).
  const spool = typeof target === "string" ? await openViewed(target) : target;
  const owned = typeof target === "string";
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    if (owned) await spool.close();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  const handlerOptions: DashboardOptions = {
    allowedHosts: [...servedHosts(host, bound), ...(options.allowedHosts ?? [])],
  };
  if (token !== undefined) handlerOptions.token = token;
  const handler = dashboard(spool, handlerOptions);
  server.on("request", handler);
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${shown.includes(":") ? `[${shown}]` : shown}:${bound}/`,
    async close() {
      handler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (owned) await spool.close();
    },
  };
}

/** Host header values a browser sends when it reaches this bind address on this port. */
function servedHosts(host: string, port: number): string[] {
  const withPort = (name: string) => `${name.includes(":") ? `[${name}]` : name}:${port}`;
  const loopback = ["localhost", "127.0.0.1", "::1"].map(withPort);
  if (isLoopbackHost(host)) return [...loopback, withPort(host.replace(/^\[|\]$/g, ""))];
  if (host !== "0.0.0.0" && host !== "::") return [withPort(host.replace(/^\[|\]$/g, ""))];
  // A wildcard bind answers on every interface: accept each of their addresses and our name.
  const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return [...loopback, withPort(osHostname()), ...addresses.map((a) => withPort(a.address))];
}

/**
 * A request target as a URL: a path (origin form) is read as a path even when it starts with
 * "//", which URL would take for a host; null for what is neither a path nor an absolute URL.
 */
function requestUrl(target: string | undefined): URL | null {
  const raw = target ?? "/";
  try {
    return raw.startsWith("/") ? new URL(`http://dashboard.invalid${raw}`) : new URL(raw);
  } catch {
    return null;
  }
}
