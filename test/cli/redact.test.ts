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
});
