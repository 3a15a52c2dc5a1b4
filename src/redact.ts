/*
 * The one password scrubber. A database URL can carry its secret in the user info
 * (`user:pass@`, where the password may itself hold `@`, spaces or percent-escapes) or in the
 * query (`?password=`, which pg honours too). Everything that shows a target or a message that
 * may quote one goes through here: Spool.target, the PostgreSQL error translator, every line
 * the CLI writes and the dashboard's overview.
 *
 * Two tools, because a text is not a URL: `redactTarget` rebuilds one URL with its secrets
 * replaced (parsed by the WHATWG URL parser, so `@` and spaces inside a password are the
 * parser's problem, not a regex's); `redactText` hides known secrets anywhere in a text, in
 * every spelling they may take, plus anything shaped like a URL password.
 */

const MASK = "***";
/** Query parameters that hold a secret: password, sslpassword and the like. */
const SECRET_PARAM = /pass/i;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The target as it may be shown: every password in it replaced by `***`. */
export function redactTarget(target: string): string {
  if (!HAS_SCHEME.test(target)) return target;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return redactUnparsable(target);
  }
  if (url.password !== "") url.password = MASK;
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, MASK);
  }
  return url.toString();
}

/**
 * A URL the parser refuses (pg refuses it too, but it is still quoted in messages): hide
 * everything from the user's ":" up to the last "@", and every secret query value.
 */
function redactUnparsable(target: string): string {
  return target
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:).*@/is, `$1${MASK}@`)
    .replace(/([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi, `$1${MASK}`);
}

/**
 * Every spelling of the target's secrets that could show up in a message: as written in the
 * URL (percent-encoded or not) and decoded (as the driver uses and may quote it).
 */
export function secretsOf(target: string): string[] {
  if (!HAS_SCHEME.test(target)) return [];
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
  try {
    const url = new URL(target);
    add(url.password);
    for (const [name, value] of url.searchParams) if (SECRET_PARAM.test(name)) add(value);
  } catch {
    // Unparsable: take what a reader would take for the password, up to the last "@".
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:(.*)@/is.exec(target);
    if (userinfo?.[1]) add(userinfo[1]);
  }
  // As written, which may be neither the parser's encoding nor the decoded form ("p@ss w%2F").
  const authority = target.slice(target.indexOf("//") + 2).split(/[/?#]/)[0] ?? "";
  const userinfo = authority.slice(0, Math.max(0, authority.lastIndexOf("@")));
  if (userinfo.includes(":")) add(userinfo.slice(userinfo.indexOf(":") + 1));
  for (const match of target.matchAll(/[?&][^=&#]*pass[^=&#]*=([^&#]*)/gi)) add(match[1] ?? "");
  // Longest first, so a secret containing another is hidden whole.
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** Secrets this process was given (the CLI registers its target's): hidden in every text. */
const known = new Set<string>();

/** Remembers the secrets of `target`, so every later `redactText` hides them. */
export function rememberSecrets(target: string): void {
  for (const secret of secretsOf(target)) known.add(secret);
}

/**
 * `text` with every known secret (and `extra`) replaced, and every password-shaped part of a
 * URL in it (`scheme://user:…@`, `password=…`) hidden even when nobody registered it.
 */
export function redactText(text: string, extra: readonly string[] = []): string {
  let out = text;
  const secrets = [...new Set([...extra, ...known])].sort((a, b) => b.length - a.length);
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join(MASK);
  return out
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)(?!\*\*\*@)[^\s/?#]*@/gi, `$1${MASK}@`)
    .replace(/([?&;\s][^=&#\s]*pass[^=&#\s]*=)(?!\*\*\*)[^&#\s]*/gi, `$1${MASK}`);
}
