/*
 * The one password scrubber (src/redact.ts) that the CLI, the dashboard, Spool.target and the
 * PostgreSQL errors share: every form a URL can carry a password in, and random passwords.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parse as pgParse } from "pg-connection-string";
import { redactTarget, redactText, secretsOf } from "../../src/redact.js";

describe("redact", () => {
  test("each form of password is replaced, the rest of the URL kept", () => {
    const cases: [string, string][] = [
      ["postgres://app:S3cret@db:5432/app", "postgres://app:***@db:5432/app"],
      ["postgres://app@db/app?password=S3cret&schema=x", "postgres://app@db/app?password=***&schema=x"],
      ["postgres://app:p@ss@word@db/app", "postgres://app:***@db/app"],
      ["postgres://app:pa ss@db/app", "postgres://app:***@db/app"],
      ["postgresql://app:a%2Fb@db/app?sslpassword=x", "postgresql://app:***@db/app?sslpassword=***"],
      ["postgres://app:p#ss@db/app", "postgres://app:***@db/app"],
      ["postgres://db/app", "postgres://db/app"],
      ["jobs.db", "jobs.db"],
      ["./weird:name@file.db", "./weird:name@file.db"],
    ];
    for (const [url, shown] of cases) assert.equal(redactTarget(url), shown, url);
  });

  test("a text quoting the URL or its secret in any spelling is scrubbed", () => {
    const url = "postgres://app:p@ss w%2Frd@db/app?password=Other-1";
    const secrets = secretsOf(url);
    for (const spelling of ["p@ss w%2Frd", "p@ss w/rd", "p%40ss%20w%2Frd", "Other-1"]) {
      const text = `connect failed for ${spelling} at ${url}`;
      const scrubbed = redactText(text, secrets);
      assert.ok(!scrubbed.includes(spelling), `${spelling} in ${scrubbed}`);
    }
  });

  test("random passwords never survive, in the user info or the query", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 6, maxLength: 30 }), (password) => {
        fc.pre(!/^[*]*$/.test(password));
        for (const url of [
          `postgres://app:${encodeURIComponent(password)}@db.example:5432/app`,
          `postgres://app@db.example:5432/app?password=${encodeURIComponent(password)}`,
        ]) {
          const secrets = secretsOf(url);
          const shown = redactTarget(url);
          const decoded = decodeURIComponent(shown);
          assert.ok(!decoded.includes(password) || "app@db.example:5432/app".includes(password), shown);
          const text = redactText(`error at ${url}: bad password ${password}`, secrets);
          assert.ok(!text.includes(password), text);
        }
      }),
      { numRuns: 300 },
    );
  });

  /** Mistyped URLs (issue 12): each still holds a password between "u:" and the last "@". */
  const MISTYPED: ((password: string) => string)[] = [
    (p) => ` postgres://u:${p}@127.0.0.1/db`,
    (p) => `postgres:/u:${p}@127.0.0.1/db`,
    (p) => `postgres//u:${p}@127.0.0.1/db`,
    (p) => `postgresql:u:${p}@127.0.0.1/db`,
    (p) => `u:${p}@127.0.0.1/db`,
    (p) => `postgres://u:${p}@127.0.0.1/db`,
  ];

  test("a mistyped URL's password is hidden however it is mistyped", () => {
    for (const password of ["hun ter2", "hunter2", "123/word", "p@ss?x#y", "0"]) {
      for (const shape of MISTYPED) {
        const url = shape(password);
        const shown = redactTarget(url);
        assert.ok(shown.endsWith(":***@127.0.0.1/db"), `${JSON.stringify(url)} shown as ${shown}`);
        assert.ok(!shown.includes(`:${password}@`), shown);
        const text = redactText(`cannot reach PostgreSQL at ${url}: no`, secretsOf(url));
        assert.ok(!text.includes(`:${password}@`), text);
        if (password.length >= 4) assert.ok(!text.includes(password), text);
      }
    }
    assert.equal(redactTarget("postgres://u:123/word@127.0.0.1/db"), "postgres://u:***@127.0.0.1/db");
    // Found by the property below (seed -885007229): a password starting "/:" made "u:/" read as
    // a mistyped scheme, and "/:" was shown. Of two readings, the one hiding more is taken.
    assert.equal(redactTarget("u:/: @127.0.0.1/db"), "u:***@127.0.0.1/db");
    assert.equal(redactTarget("u:/:pw@127.0.0.1/db"), "u:***@127.0.0.1/db");
  });

  test("random passwords in mistyped URLs never survive", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 24 }), fc.nat(MISTYPED.length - 1), (password, i) => {
        fc.pre(!password.includes("*") && !(i === 4 && password.startsWith("//")));
        const url = (MISTYPED[i] as (p: string) => string)(password);
        const shown = redactTarget(url);
        // The mask starts at or before the password and runs to the host: none of it is shown.
        const tail = "***@127.0.0.1/db";
        const kept = shown.slice(0, -tail.length);
        const passwordAt = url.length - "@127.0.0.1/db".length - password.length;
        assert.ok(
          shown.endsWith(tail) && url.startsWith(kept) && kept.length <= passwordAt,
          `${JSON.stringify(url)} shown as ${JSON.stringify(shown)}`,
        );
        const text = redactText(`cannot reach ${url} now`, secretsOf(url));
        assert.ok(!text.includes(`u:${password}@`), text);
      }),
      { numRuns: 500 },
    );
  });

  test("a short password is hidden where it stands in a URL, not in every number of the text", () => {
    const url = "postgres://postgres:0@127.0.0.1:5432/test";
    const secrets = secretsOf(url);
    const hint = "stopped at line 31; resume with: spool import --skip 30 db q < in.ndjson";
    assert.equal(redactText(hint, secrets), hint);
    assert.equal(
      redactText(`failed at ${url}`, secrets),
      "failed at postgres://postgres:***@127.0.0.1:5432/test",
    );
    assert.equal(redactText("password=0 and more", secrets), "password=*** and more");
    // A long one is hidden anywhere it stands as a token, but not inside a longer word.
    const long = secretsOf("postgres://u:ab12@h/db");
    assert.equal(redactText("the secret ab12 and ab123", long), "the secret *** and ab123");
  });

  /** Keeps a generated secret apart from the rest of a URL: "S3c" appears nowhere else. */
  const TAG = "S3c";
  // At least 4 characters (MIN_PLAIN): a shorter one is hidden only where it stands in a URL.
  const tagged = fc.string({ minLength: 1, maxLength: 16 }).map((s) => `${TAG}${s}`);

  /** A key pg reads as a password, each letter written as itself or %xx / %XX. */
  const secretKey = fc
    .tuple(fc.constantFrom("password", "sslpassword"), fc.array(fc.nat(2), { minLength: 11, maxLength: 11 }))
    .map(([key, how]) =>
      [...key]
        .map((c, i) => {
          const hex = (c.codePointAt(0) ?? 0).toString(16);
          return [c, `%${hex}`, `%${hex.toUpperCase()}`][how[i] ?? 0];
        })
        .join(""),
    );

  /** URLs pg reads and the WHATWG parser alone refuses (no host, a space, a bad port), and one it takes. */
  const QUERY_SHAPES: ((key: string, value: string) => string)[] = [
    (k, v) => `postgres://postgres@/test?host=127.0.0.1&${k}=${v}`,
    (k, v) => `postgres://first last@/test?${k}=${v}&host=127.0.0.1`,
    (k, v) => `postgres://postgres@db.example:5432x/app?${k}=${v}`,
    (k, v) => `postgres://postgres@db.example:5432/app?schema=s&${k}=${v}`,
  ];

  test("issue review12-01: a password key in any spelling pg decodes is hidden, also in a URL pg retries with a dummy host", () => {
    const url = "postgres://postgres@/test?host=127.0.0.1&p%61ssword=Sup3rS3cret";
    assert.equal(pgParse(url).password, "Sup3rS3cret", "pg reads it");
    assert.equal(redactTarget(url), "postgres://postgres@/test?host=127.0.0.1&p%61ssword=***");
    assert.ok(!redactText(`${url} failed: Sup3rS3cret`, secretsOf(url)).includes("Sup3rS3cret"));
    fc.assert(
      fc.property(secretKey, tagged, fc.nat(QUERY_SHAPES.length - 1), (key, secret, i) => {
        const url = (QUERY_SHAPES[i] as (k: string, v: string) => string)(key, encodeURIComponent(secret));
        const shown = redactTarget(url);
        assert.ok(!shown.includes(TAG), `${url} shown as ${shown}`);
        assert.ok(shown.includes(`${key}=***`), `${url} shown as ${shown}`);
        // What pg itself reads as the password (the oracle) is hidden in a message quoting it.
        let read: string | null | undefined;
        try {
          read = pgParse(url).password;
        } catch {
          read = undefined; // pg refuses this one (a bad port): nothing connects with it.
        }
        const text = redactText(`error at ${url}: password ${read ?? secret} refused`, secretsOf(url));
        assert.ok(!text.includes(TAG), text);
      }),
      { numRuns: 500 },
    );
  });

  /** A user name may hold anything but the ":" that ends it and a "/" (see userinfoSpan). */
  const userName = fc
    .string({ maxLength: 12, unit: "grapheme" })
    .filter((u) => !/[:/]/.test(u) && !u.includes(TAG));

  /** The shapes docs/cli.md names, each with the host part that stays shown. */
  const USER_SHAPES: [(user: string, password: string) => string, string][] = [
    [(u, p) => `postgres://${u}:${p}@db.example.com:5432x/app`, "@db.example.com:5432x/app"],
    [(u, p) => `postgres://${u}:${p}@/test?host=127.0.0.1`, "@/test?host=127.0.0.1"],
    [(u, p) => `postgres://${u}:${p}@db.example.com:5432/app`, "@db.example.com:5432/app"],
    [(u, p) => `postgres//${u}:${p}@db.example.com/app`, "@db.example.com/app"],
    [(u, p) => `${u}:${p}@db.example.com/app`, "@db.example.com/app"],
  ];

  test("issue review12-02: whatever the user name holds, the password after it is hidden, in any URL shape", () => {
    for (const url of [
      "postgres://ops@corp:Sup3rS3cret@db.example.com:5432x/app",
      "postgres://user name:Sup3rS3cret@/test?host=127.0.0.1",
      "postgres://postgres!x:Sup3rS3cret@/test?host=127.0.0.1",
      "ops@corp:Sup3rS3cret@db.example.com/app",
      "postgres//ops@corp:Sup3rS3cret@db.example.com/app",
      "first last:Sup3rS3cret@db.example.com/app",
      "postgres://jürgen$(x)*=:Sup3rS3cret@db.example.com/app",
    ]) {
      assert.equal(redactTarget(url), url.replace("Sup3rS3cret", "***"));
      assert.ok(!redactText(`cannot reach ${url}: Sup3rS3cret`, secretsOf(url)).includes("Sup3rS3cret"));
    }
    fc.assert(
      fc.property(userName, tagged, fc.nat(USER_SHAPES.length - 1), (user, password, i) => {
        const [shape, host] = USER_SHAPES[i] as [(u: string, p: string) => string, string];
        const url = shape(user, password);
        const shown = redactTarget(url);
        assert.ok(
          !shown.includes(TAG) && shown.endsWith(`:***${host}`),
          `${JSON.stringify(url)} shown as ${shown}`,
        );
        const text = redactText(`cannot reach ${url}: password ${password} refused`, secretsOf(url));
        assert.ok(!text.includes(TAG), text);
      }),
      { numRuns: 500 },
    );
  });

  test("issue review12-13: a numeric password hides no number Spool prints, only the password in its URL", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), fc.boolean(), (n, inQuery) => {
        const password = String(n);
        const url = inQuery
          ? `postgres://postgres@127.0.0.1:5432/test?password=${password}&schema=s`
          : `postgres://postgres:${password}@127.0.0.1:5432/test?schema=s`;
        const shownUrl = url.replace(
          inQuery ? `=${password}&` : `:${password}@`,
          inQuery ? "=***&" : ":***@",
        );
        assert.equal(redactTarget(url), shownUrl);
        const hint = (at: string) =>
          `stdin line ${n + 1}: not valid JSON. ${n} jobs were imported; resume with: spool import '${at}' q --skip ${n} (job ${n}, limit=${n})`;
        assert.equal(redactText(hint(url), secretsOf(url)), hint(shownUrl));
      }),
      { numRuns: 300 },
    );
  });
});
