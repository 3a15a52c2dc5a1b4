/*
 * The one password scrubber. A database URL can carry its secret in the user info
 * (`user:pass@`, where the password may itself hold `@`, spaces or percent-escapes) or in the
 * query (`?password=`, which pg honours too). Everything that shows a target or a message that
 * may quote one goes through here: Spool.target, the PostgreSQL error translator, every line
 * the CLI writes and the dashboard's overview.
 *
 * Two tools, because a text is not a URL: `redactTarget` shows one target with its secrets
 * replaced; `redactText` hides known secrets in a text, plus anything shaped like a URL password.
 *
 * The user info is not left to the URL parser alone: a slightly mistyped URL (a leading space,
 * `postgres:/`, `postgres//`, `postgresql:u:`, no scheme at all) or a password holding `/`
 * (`u:123/word@host`, which the parser reads as host u, port 123) would get past it. Whatever
 * the text, everything between `user:` and the last `@` is the password (see `userinfoSpan`).
 *
 * A secret is hidden where it stands in a URL (`:secret@`, `=secret`) whatever its length, but
 * a plain occurrence elsewhere only when it is long enough to mean something (MIN_PLAIN) and
 * stands as a whole token: a password `0` must not turn `--skip 30` into `--skip 3***`.
 */

const MASK = "***";
/** Query parameters that hold a secret: password, sslpassword and the like. */
const SECRET_PARAM = /pass/i;
/** Shorter secrets are hidden only where they stand in a URL, not wherever they occur. */
const MIN_PLAIN = 4;
/** A user name as it can stand before `:password@` (letters, digits, `._~%+-`). */
const USER = /^[\w.~%+-]*:/;

/**
 * Where the password of `text` read as a database URL lies, as [start, end) with `end` the
 * last "@": after `scheme:/…` or `scheme//…` (mistyped), or else from the first ":" (`u:pw@host`,
 * `postgresql:u:pw@host`), the first `user:` starts it. Null when the text holds no such password.
 */
function userinfoSpan(text: string): [number, number] | null {
  const at = text.lastIndexOf("@");
  if (at < 0) return null;
  const lead = /^\s*/.exec(text)?.[0].length ?? 0;
  // After a scheme with slashes (well-formed or mistyped), the user name follows it. Without
  // slashes, "x:y:z@h" is read from its first ":" (user x, password "y:z"): it may be scheme x,
  // user y, but it may as well be user x with a password holding ":", and hiding more is safe.
  const scheme = /^[a-z][a-z0-9+.-]*(?::\/+|\/\/+)/i.exec(text.slice(lead));
  if (scheme) {
    const from = lead + scheme[0].length;
    const user = USER.exec(text.slice(from, at));
    if (user) return [from + user[0].length, at];
  }
  // No scheme: the first word is the user, unless it is a scheme followed by "//" ("x://u@h").
  const user = USER.exec(text.slice(lead, at));
  if (user && !text.startsWith("//", lead + user[0].length)) return [lead + user[0].length, at];
  return null;
}

/** The target as it may be shown: every password in it replaced by `***`. */
export function redactTarget(target: string): string {
  const span = userinfoSpan(target);
  let shown = span ? `${target.slice(0, span[0])}${MASK}${target.slice(span[1])}` : target;
  shown = shown.replace(/([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi, `$1${MASK}`);
  // What the URL parser (and so pg) reads as a secret, in spellings no pattern above knows
  // (`?p%61ssword=`): hidden too, the URL rebuilt only then.
  let url: URL;
  try {
    url = new URL(shown);
  } catch {
    return shown;
  }
  let changed = false;
  if (url.password !== "" && url.password !== MASK) {
    url.password = MASK;
    changed = true;
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name) && url.searchParams.getAll(name).some((v) => v !== MASK)) {
      url.searchParams.set(name, MASK);
      changed = true;
    }
  }
  return changed ? url.toString() : shown;
}

/**
 * Every spelling of the target's secrets that could show up in a message: as written in the
 * URL (percent-encoded or not) and decoded (as the driver uses and may quote it).
 */
export function secretsOf(target: string): string[] {
  const found = new Set<string>();
  const add = (raw: string) => {
    if (raw === "") return;
    found.add(raw);
    try {
      found.add(decodeURIComponent(raw));
    } catch {
      // A malformed escape: the raw form is the only one anyone can quote.
    }
    found.add(raw.replace(/\+/g, " "));
  };
  const span = userinfoSpan(target);
  if (span) add(target.slice(span[0], span[1]));
  try {
    const url = new URL(target);
    add(url.password);
    for (const [name, value] of url.searchParams) if (SECRET_PARAM.test(name)) add(value);
  } catch {
    // Unparsable: the span and the query's text are what a reader would take for secrets.
  }
  for (const match of target.matchAll(/[?&][^=&#]*pass[^=&#]*=([^&#]*)/gi)) add(match[1] ?? "");
  // Longest first, so a secret containing another is hidden whole.
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** Secrets this process was given (the CLI registers its target's): hidden in every text. */
const known = new Set<string>();

/** Remembers the secrets of `target`, so every later `redactText` hides them. */
export function rememberSecrets(target: string): void {
  for (const secret of secretsOf(target)) {
    known.add(secret);
    if (!knownSpots.has(secret)) knownSpots.set(secret, urlSpots(secret));
  }
}

const WORD = /[\p{L}\p{N}_]/u;

/** `secret` hidden where it stands as a whole token of `text` (not inside a longer word). */
function hidePlain(text: string, secret: string): string {
  const first = WORD.test(secret[0] ?? "");
  const last = WORD.test(secret[secret.length - 1] ?? "");
  let out = "";
  let from = 0;
  for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
    if (i < from) continue;
    const end = i + secret.length;
    if ((first && WORD.test(text[i - 1] ?? "")) || (last && WORD.test(text[end] ?? ""))) continue;
    out += text.slice(from, i) + MASK;
    from = end;
  }
  return out + text.slice(from);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Where a secret stands in a URL: after `user:` and after `name=`. */
interface UrlSpots {
  colon: RegExp;
  equals: RegExp;
}

function urlSpots(secret: string): UrlSpots {
  const s = escapeRegExp(secret);
  return { colon: new RegExp(`:${s}(?=@)`, "g"), equals: new RegExp(`=${s}(?=$|[&#\\s'"])`, "g") };
}

/** The known secrets' patterns, compiled once: redactText runs on every line the CLI prints. */
const knownSpots = new Map<string, UrlSpots>();

/**
 * `text` with every known secret (and `extra`) replaced where it stands in a URL, and
 * anywhere as a whole token when it is at least MIN_PLAIN long; and every password-shaped part
 * of a URL in it (`scheme://user:…@`, `password=…`) hidden even when nobody registered it.
 */
export function redactText(text: string, extra: readonly string[] = []): string {
  let out = text;
  const secrets = [...new Set([...extra, ...known])].sort((a, b) => b.length - a.length);
  for (const secret of secrets) {
    if (secret === "") continue;
    const spots = knownSpots.get(secret) ?? urlSpots(secret);
    out = out.replace(spots.colon, `:${MASK}`).replace(spots.equals, `=${MASK}`);
    if (secret.length >= MIN_PLAIN) out = hidePlain(out, secret);
  }
  return out
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)(?!\*\*\*@)[^\s/?#]*@/gi, `$1${MASK}@`)
    .replace(/([?&;\s][^=&#\s]*pass[^=&#\s]*=)(?!\*\*\*)[^&#\s]*/gi, `$1${MASK}`);
}
