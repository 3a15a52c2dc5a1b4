/*
 * The one password scrubber (src/redact.ts) that the CLI, the dashboard, Spool.target and the
 * PostgreSQL errors share: every form a URL can carry a password in, and random passwords.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
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
    // A long one is hidden anywhere it stands as a token, but not inside a longer number.
    const long = secretsOf("postgres://u:1234@h/db");
    assert.equal(redactText("the secret 1234 and --skip 12345", long), "the secret *** and --skip 12345");
  });
});
