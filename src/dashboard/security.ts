/*
 * The dashboard's defences, each a small pure check the server applies in order:
 * Host allow-list (DNS rebinding), token (when set), CSRF token and origin on mutations, and the
 * response headers that lock the page down (CSP and friends).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Hostnames that only ever reach this machine. */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** Sent with every response: the page loads only its own script and style, and nothing else. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || h === "[::1]" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Which Host header values are accepted. An entry "name" accepts that name on any port,
 * "name:port" only that pair, and "*" anything (only when a proxy in front checks Host).
 */
export class HostPolicy {
  private readonly any: boolean;
  private readonly names = new Set<string>();
  private readonly pairs = new Set<string>();

  constructor(entries: readonly string[]) {
    this.any = entries.includes("*");
    for (const raw of entries) {
      const entry = raw.toLowerCase();
      const { name, port } = splitHost(entry);
      if (port === null) this.names.add(name);
      else this.pairs.add(`${name}:${port}`);
    }
  }

  /** The loopback names on any port: what a handler mounted without `allowedHosts` accepts. */
  static loopback(): HostPolicy {
    return new HostPolicy(LOOPBACK_NAMES);
  }

  allows(header: string | undefined): boolean {
    if (this.any) return true;
    if (header === undefined || header === "") return false;
    const { name, port } = splitHost(header.toLowerCase());
    if (this.names.has(name)) return true;
    if (port !== null) return this.pairs.has(`${name}:${port}`);
    // Browsers leave out the port when it is the scheme's default; behind a TLS proxy that is
    // 443, and this handler cannot tell the scheme, so either default matches.
    return this.pairs.has(`${name}:80`) || this.pairs.has(`${name}:443`);
  }
}

/** Splits "host:port" (IPv6 in brackets) into its parts; the name keeps IPv6 brackets. */
export function splitHost(value: string): { name: string; port: string | null } {
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return { name: value, port: null };
    const rest = value.slice(end + 1);
    return { name: value.slice(0, end + 1), port: rest.startsWith(":") ? rest.slice(1) : null };
  }
  const colon = value.lastIndexOf(":");
  // A bare IPv6 address (several colons, no brackets) is a name without a port.
  if (colon < 0 || value.indexOf(":") !== colon) return { name: value, port: null };
  return { name: value.slice(0, colon), port: value.slice(colon + 1) };
}

/** Compares secrets in constant time whatever their lengths (both are hashed first). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

export const SESSION_COOKIE = "spool_dashboard";
export const CSRF_HEADER = "x-spool-csrf";

/**
 * Token access: `Authorization: Bearer <token>`, or the session cookie that `?token=` sets.
 * The cookie holds an HMAC of the token, not the token itself, and stays valid across restarts
 * as long as the token is the same.
 */
export class TokenGate {
  private readonly token: string;
  private readonly session: string;

  constructor(token: string) {
    this.token = token;
    this.session = createHmac("sha256", token).update("spool dashboard session").digest("base64url");
  }

  /** True when the request carries the token or a session made from it. */
  admits(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) return sameSecret(auth.slice(7).trim(), this.token);
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    return cookie !== null && sameSecret(cookie, this.session);
  }

  matches(candidate: string): boolean {
    return sameSecret(candidate, this.token);
  }

  /** The Set-Cookie header that lets a browser in after one `?token=` visit. */
  sessionCookie(path: string, secure: boolean): string {
    // HttpOnly: page scripts never see it; SameSite=Strict: no other site's page can send it.
    const parts = [`${SESSION_COOKIE}=${this.session}`, `Path=${path}`, "HttpOnly", "SameSite=Strict"];
    if (secure) parts.push("Secure");
    return parts.join("; ");
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A fresh random token for this handler's life; the page echoes it in a header on every POST. */
export function newCsrfToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * Why a mutation must be refused, or null when it may proceed. The custom header alone already
 * defeats HTML-form CSRF (a cross-site page cannot set it without a CORS preflight we never
 * answer); the Origin and Sec-Fetch-Site checks are a second lock on the same door.
 */
export function csrfProblem(req: IncomingMessage, csrfToken: string): string | null {
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== "string" || !sameSecret(sent, csrfToken)) return "missing or wrong CSRF token";
  if (req.headers["sec-fetch-site"] === "cross-site") return "cross-site request";
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return "malformed Origin header";
    }
    if (originHost.toLowerCase() !== (req.headers.host ?? "").toLowerCase()) return "cross-origin request";
  } else if (origin === "null") {
    return "opaque origin";
  }
  return null;
}
