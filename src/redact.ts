/*
 * The one password scrubber. A database URL can carry its secret in the user info
 * (`user:pass@`, where the password may itself hold `@`, spaces or percent-escapes) or in the
 * query (`?password=`, also spelled `?p%61ssword=`, which pg honours too). Everything that shows
 * a target or a message that may quote one goes through here: Spool.target, the PostgreSQL error
 * translator, every line the CLI writes and the dashboard's overview.
 *
 * Two tools, because a text is not a URL: `redactTarget` shows one target with its secrets
 * replaced; `redactText` hides known secrets in a text, plus anything shaped like a URL password.
 *
 * Both read a URL the way pg does (pg-connection-string): query keys and values decoded as
 * URLSearchParams decodes them, after pg's own pre-pass (`encodeURI` when the URL holds a space
 * or a stray `%`), and a URL the parser refuses retried with a dummy host (`user@/db?host=h`).
 * But the text is not left to the parser alone: a slightly mistyped URL (a leading space,
 * `postgres:/`, `postgres//`, `postgresql:u:`, no scheme at all), a password holding `/`
 * (`u:123/word@host`, read by the parser as host u, port 123) or a user name holding `@`, a
 * space or any other character would get past it. Whatever the text, everything from the `:`
 * after the user name to the last `@` is the password (see `userinfoSpan`), and every query
 * value whose key reads as a password in any of those decodings is hidden (see `paramValues`).
 *
 * A secret is hidden where it stands in a URL (`:secret@`, `password=secret`) whatever its
 * length. Elsewhere in a text it is hidden as a whole token only when it is long enough to mean
 * something (MIN_PLAIN) and is not a bare number: the numbers Spool prints itself (counts, ids,
 * the `--skip` of a resume hint) must stay readable when the password is `0` or `2000`.
 */

const MASK = "***";
/** Query parameters that hold a secret: password, sslpassword and the like. */
const SECRET_KEY = /pass/i;
/** Shorter secrets are hidden only where they stand in a URL, not wherever they occur. */
const MIN_PLAIN = 4;
/** A secret shaped like a number Spool prints (a count, an id, a duration's figure). */
const NUMBER = /^\d+(?:[.,]\d+)*$/;

/** pg-connection-string's pre-pass: `encodeURI`, with the `%dd` escapes (digits only) kept. */
function pgEncode(text: string): string {
  try {
    return encodeURI(text).replace(/%25(\d\d)/g, "%$1");
  } catch {
    return text; // A lone surrogate: pg throws on it too, nothing is read.
  }
}

/** A URL component as URLSearchParams decodes it (`+` is a space, bad escapes stay as written). */
const formDecode = (raw: string) =>
  new URLSearchParams(`x=${raw.replace(/[&#]/g, encodeURIComponent)}`).get("x") ?? raw;

/** Every way pg (or a reader) may take a URL component: as written, and decoded either way. */
function readings(raw: string): string[] {
  const found = new Set([raw]);
  for (const text of [raw, pgEncode(raw)]) {
    found.add(formDecode(text));
    try {
      found.add(decodeURIComponent(text));
    } catch {
      // A malformed escape: decodeURIComponent refuses it (so does pg), the other readings stand.
    }
  }
  return [...found];
}

/** Whether a query key, raw, is one pg (or a reader) could take for a password. */
const isSecretKey = (raw: string) => readings(raw).some((key) => SECRET_KEY.test(key));

/** In a target, pairs follow `?` or `&` and a value runs to `&` or `#` (as in URLSearchParams). */
const TARGET_PAIR = /[?&]([^=&#?]*)=([^&#]*)/g;
/** In a free text, a pair may also follow `;` or a space, and its value ends at a space. */
const TEXT_PAIR = /(?:^|[?&;\s])([^=&#?;\s]*)=([^&#\s]*)/g;

/** [start, end) of every non-empty value in `text` whose key reads as a password. */
function paramValues(text: string, pair: RegExp): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(pair)) {
    const [whole, key = "", value = ""] = m;
    if (value === "" || !isSecretKey(key)) continue;
    const end = (m.index ?? 0) + whole.length;
    spans.push([end - value.length, end]);
  }
  return spans;
}

/**
 * Where the password of `text` read as a database URL lies, as [start, end) with `end` the
 * last "@": after `scheme:/…` or `scheme//…` (mistyped), or else from the start (`u:pw@host`,
 * `postgresql:u:pw@host`), it starts after the first ":", whatever the user name before it
 * holds (`@`, spaces, `!`, non-ASCII letters) but a "/": a name with one is a file path
 * (`./weird:name@file.db`) or ends the URL's authority, and pg reads no password in it.
 */
function userinfoSpan(text: string): [number, number] | null {
  const at = text.lastIndexOf("@");
  if (at < 0) return null;
  const lead = /^\s*/.exec(text)?.[0].length ?? 0;
  const user = (from: number) => /^[^:/]*:/.exec(text.slice(from, at))?.[0].length;
  // After a scheme with slashes (well-formed or mistyped), the user name follows it. Without
  // slashes, "x:y:z@h" is read from its first ":" (user x, password "y:z"): it may be scheme x,
  // user y, but it may as well be user x with a password holding ":", and hiding more is safe.
  const starts: number[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*(?::\/+|\/\/+)/i.exec(text.slice(lead));
  if (scheme) {
    const from = lead + scheme[0].length;
    const length = user(from);
    if (length !== undefined) starts.push(from + length);
  }
  // No scheme: the first word is the user, unless it is a scheme followed by "//" ("x://u@h").
  // Both readings may stand ("u:/: @h" is scheme u with user "", or user u with password "/: "):
  // the one that hides more is taken.
  const length = user(lead);
  if (length !== undefined && !text.startsWith("//", lead + length)) starts.push(lead + length);
  return starts.length === 0 ? null : [Math.min(...starts), at];
}

/** `text` with each of `spans` (overlapping or not) replaced by one `***`. */
function mask(text: string, spans: [number, number][]): string {
  let out = "";
  let from = 0;
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (end <= from) continue;
    out += `${text.slice(from, Math.max(from, start))}${start >= from ? MASK : ""}`;
    from = end;
  }
  return out + text.slice(from);
}

interface Read {
  /** As the URL holds it (percent-encoded; pg decodes it, see `readings`). */
  password: string;
  /** The query, decoded. */
  params: [string, string][];
}

/**
 * What pg-connection-string reads from `target` as a URL (after its pre-pass, with its
 * dummy-host retry), and what the URL parser reads from it as given (the percent-encoded
 * spelling a message may quote): none for a socket path or a text neither parser takes.
 */
function urlReads(target: string): Read[] {
  if (target.startsWith("/")) return []; // A socket path: pg reads no URL from it.
  const texts = new Set([target]);
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(target)) texts.add(pgEncode(target));
  const reads: Read[] = [];
  for (const text of texts) {
    for (const tried of [text, text.replace("@/", "@___DUMMY___/")]) {
      try {
        const url = new URL(tried, "postgres://base");
        reads.push({ password: url.password, params: [...url.searchParams] });
        break;
      } catch {
        // Refused: pg tries again with a dummy host, then gives up.
      }
    }
  }
  return reads;
}

/** The target as it may be shown: every password in it replaced by `***`. */
export function redactTarget(target: string): string {
  const span = userinfoSpan(target);
  const shown = mask(target, [...(span ? [span] : []), ...paramValues(target, TARGET_PAIR)]);
  // A last check with pg's own reading of what is shown: should it still find a secret the
  // spans above missed, nothing after the scheme is shown rather than that secret.
  const leaks = urlReads(shown).some(
    (read) =>
      !["", MASK].includes(read.password) ||
      read.params.some(([key, value]) => SECRET_KEY.test(key) && !["", MASK].includes(value)),
  );
  return leaks ? `${/^\s*[a-z][a-z0-9+.-]*:\/*/i.exec(shown)?.[0] ?? ""}${MASK}` : shown;
}

/**
 * Every spelling of the target's secrets that could show up in a message: as written in the
 * URL and decoded every way pg or a reader may decode it (as the driver uses and may quote it).
 */
export function secretsOf(target: string): string[] {
  const found = new Set<string>();
  const add = (raw: string) => {
    for (const reading of readings(raw)) if (reading !== "") found.add(reading);
  };
  const span = userinfoSpan(target);
  if (span) add(target.slice(span[0], span[1]));
  for (const [start, end] of paramValues(target, TARGET_PAIR)) add(target.slice(start, end));
  for (const read of urlReads(target)) {
    add(read.password);
    for (const [key, value] of read.params) if (SECRET_KEY.test(key)) add(value);
  }
  // Longest first, so a secret containing another is hidden whole.
  return [...found].sort((a, b) => b.length - a.length);
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

/** Where a secret stands in a URL: after `user:`, and after `name=` unless it is a number. */
interface UrlSpots {
  colon: RegExp;
  equals: RegExp | null;
}

function urlSpots(secret: string): UrlSpots {
  const s = escapeRegExp(secret);
  // A numeric secret after a key that is no password's (`limit=2000`) is Spool's number.
  const equals = NUMBER.test(secret) ? null : new RegExp(`=${s}(?=$|[&#\\s'"])`, "g");
  return { colon: new RegExp(`:${s}(?=@)`, "g"), equals };
}

/** The known secrets' patterns, compiled once: redactText runs on every line the CLI prints. */
const knownSpots = new Map<string, UrlSpots>();

/**
 * `text` with every known secret (and `extra`) replaced where it stands in a URL, and
 * anywhere as a whole token when it is at least MIN_PLAIN long and not a bare number; and every
 * password-shaped part of a URL in it (`scheme://user:…@`, `password=…` in any spelling pg
 * decodes) hidden even when nobody registered it.
 */
export function redactText(text: string, extra: readonly string[] = []): string {
  let out = text;
  const secrets = [...new Set([...extra, ...known])].sort((a, b) => b.length - a.length);
  for (const secret of secrets) {
    if (secret === "") continue;
    const spots = knownSpots.get(secret) ?? urlSpots(secret);
    out = out.replace(spots.colon, `:${MASK}`);
    if (spots.equals) out = out.replace(spots.equals, `=${MASK}`);
    if (secret.length >= MIN_PLAIN && !NUMBER.test(secret)) out = hidePlain(out, secret);
  }
  // The user name may hold "@" (`user@server:pw@host`): the password runs to the last "@".
  out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#]*:)(?!\*\*\*@)[^\s/?#]*@/gi, `$1${MASK}@`);
  return mask(out, paramValues(out, TEXT_PAIR));
}
