/*
 * Every dashboard route against hostile and clumsy input (issue 12): bodies that are null,
 * arrays or carry the wrong keys, made-up and malformed queue names, bad paging numbers, 10 MB
 * payloads and errors, a queue name in the store that validation refuses, a token login under
 * a mount path, and PostgreSQL passwords in every form kept out of every answer.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { dashboard, startDashboard } from "../../src/dashboard/server.js";
import { Spool } from "../../src/index.js";
import { job } from "../helpers/new-job.js";
import { csrfOf, PG_URL, raw, seedEveryState, stores } from "./helpers.js";

const T = { timeout: 120_000 };
const JSON_TYPE = { "Content-Type": "application/json" };

async function served(t: TestContext, spool: Spool) {
  const server = await startDashboard(spool, { port: 0 });
  t.after(() => server.close());
  const csrf = csrfOf((await raw(server.url)).body);
  const post = (path: string, body: string | undefined) =>
    raw(`${server.url}${path}`, {
      method: "POST",
      headers: { ...JSON_TYPE, "X-Spool-CSRF": csrf },
      ...(body === undefined ? {} : { body }),
    });
  const get = (path: string) => raw(`${server.url}${path}`);
  return { url: server.url, post, get };
}

/** Records every name `spool.queue()` is asked for: made-up names must never get a handle. */
function spyQueues(spool: Spool): string[] {
  const asked: string[] = [];
  const original = spool.queue.bind(spool);
  spool.queue = ((name: string, defaults?: object) => {
    asked.push(name);
    return original(name, defaults);
  }) as Spool["queue"];
  return asked;
}

for (const store of stores) {
  describe(`dashboard against hostile input (${store.name})`, () => {
    test("a retry whose body does not say which jobs acts on nothing", T, async (t) => {
      const spool = await store.open(t);
      const queue = spool.queue("emails");
      const deadId = await seedEveryState(queue);
      const { post } = await served(t, spool);
      const bodies = [
        '{"id":1}',
        "{}",
        "null",
        "[]",
        "[1]",
        '"all"',
        "42",
        '{"ids":"1"}',
        '{"ids":[1.5]}',
        '{"ids":[-1]}',
        '{"ids":null}',
        '{"all":false}',
        '{"all":"yes"}',
        `{"all":true,"ids":[${deadId}]}`,
        "{",
      ];
      for (const body of bodies) {
        const res = await post("api/queues/emails/retry", body);
        assert.equal(res.status, 400, `${body} → ${res.status} ${res.body}`);
        assert.match(JSON.parse(res.body).error, /\w/);
      }
      const empty = await post("api/queues/emails/retry", undefined);
      assert.equal(empty.status, 400, "an empty body says nothing either");
      assert.equal((await queue.size()).dead, 1, "no dead job moved");

      const all = await post("api/queues/emails/retry", '{"all":true}');
      assert.deepEqual([all.status, JSON.parse(all.body)], [200, { moved: 1 }]);
    });

    test("purge and delete refuse malformed bodies and ids with 4xx, never 500", T, async (t) => {
      const spool = await store.open(t);
      const queue = spool.queue("emails");
      await seedEveryState(queue);
      const before = await queue.size();
      const { post } = await served(t, spool);
      for (const body of ["null", "[]", '["dead"]', '{"state":"pending"}', '{"State":"dead"}', "{", "7"]) {
        const res = await post("api/queues/emails/purge", body);
        assert.equal(res.status, 400, `purge ${body} → ${res.status} ${res.body}`);
      }
      const huge = await post(
        "api/queues/emails/purge",
        JSON.stringify({ state: "dead", pad: "x".repeat(10e6) }),
      );
      assert.equal(huge.status, 413);
      for (const id of ["0", "-1", "1.5", "abc", "99999999999999999999", "%00"]) {
        const res = await post(`api/queues/emails/jobs/${id}/delete`, "{}");
        assert.equal(res.status, 400, `delete ${id} → ${res.status} ${res.body}`);
      }
      assert.deepEqual(await queue.size(), before);
    });

    test(
      "a purge with keys it does not know acts on nothing; olderThan works as in the library",
      T,
      async (t) => {
        const spool = await store.open(t);
        const queue = spool.queue("emails");
        await seedEveryState(queue);
        const before = await queue.size();
        assert.ok(before.dead > 0 && before.completed > 0);
        const { post } = await served(t, spool);
        for (const body of [
          '{"state":"dead","olderThan":86400000,"extra":1}',
          '{"state":"dead","older":86400000}',
          '{"state":"dead","olderThan":-1}',
          '{"state":"dead","olderThan":"1d"}',
          '{"state":"dead","olderThan":null}',
        ]) {
          const res = await post("api/queues/emails/purge", body);
          assert.equal(res.status, 400, `purge ${body} → ${res.status} ${res.body}`);
          assert.match(JSON.parse(res.body).error, /\w/);
        }
        assert.deepEqual(await queue.size(), before, "nothing purged by a refused body");
        // Every job here finished just now: none is older than a day, so none goes.
        const day = await post("api/queues/emails/purge", '{"state":"dead","olderThan":86400000}');
        assert.deepEqual([day.status, JSON.parse(day.body)], [200, { deleted: 0 }]);
        assert.deepEqual(await queue.size(), before);
        const all = await post("api/queues/emails/purge", '{"state":"dead","olderThan":0}');
        assert.deepEqual([all.status, JSON.parse(all.body)], [200, { deleted: before.dead }]);
      },
    );

    test("unknown queue names answer 404 and register nothing; invalid ones 400", T, async (t) => {
      const spool = await store.open(t);
      await seedEveryState(spool.queue("emails"));
      const asked = spyQueues(spool);
      const { get, post } = await served(t, spool);
      for (let i = 0; i < 50; i++) {
        const name = `made-up-${i}`;
        assert.equal((await get(`api/queues/${name}/jobs?state=dead`)).status, 404);
        assert.equal((await get(`api/queues/${name}/jobs/1`)).status, 404);
        assert.equal((await post(`api/queues/${name}/retry`, '{"all":true}')).status, 404);
        assert.equal((await post(`api/queues/${name}/purge`, '{"state":"dead"}')).status, 404);
        assert.equal((await post(`api/queues/${name}/jobs/1/delete`, "{}")).status, 404);
      }
      for (const name of ["bad%20name!", "%ZZ", "a".repeat(300), "%1B%5B2J", "%2F"]) {
        const res = await get(`api/queues/${name}/jobs`);
        assert.equal(res.status, 400, `${name.slice(0, 20)} → ${res.status} ${res.body}`);
      }
      assert.deepEqual(
        asked.filter((name) => name !== "emails"),
        [],
        "no handle (and no retention entry) for a name the store does not hold",
      );
      const overview = JSON.parse((await get("api/overview")).body) as { queues: { name: string }[] };
      assert.deepEqual(
        overview.queues.map((q) => q.name),
        ["emails"],
      );
    });

    test("paging numbers are whole numbers in range, named when wrong", T, async (t) => {
      const spool = await store.open(t);
      await seedEveryState(spool.queue("emails"));
      const { get } = await served(t, spool);
      for (const [param, value] of [
        ["limit", "2.5"],
        ["limit", "0"],
        ["limit", "201"],
        ["limit", "-1"],
        ["limit", "abc"],
        ["limit", "1e3"],
        ["after", "-1"],
        ["after", "1.5"],
        ["after", "99999999999999999999"],
      ]) {
        const res = await get(`api/queues/emails/jobs?state=pending&${param}=${value}`);
        assert.equal(res.status, 400, `${param}=${value} → ${res.status} ${res.body}`);
        assert.ok(JSON.parse(res.body).error.includes(JSON.stringify(value)), res.body);
      }
      const ok = JSON.parse((await get("api/queues/emails/jobs?state=pending&limit=2")).body) as {
        jobs: unknown[];
        next: number | null;
      };
      assert.equal(ok.jobs.length, 2);
      assert.notEqual(ok.next, null);
    });

    test("10 MB payloads and errors: the list reads previews, the detail is capped", T, async (t) => {
      const spool = await store.open(t);
      const queue = spool.queue("big");
      const big = "x".repeat(10 * 1024 * 1024);
      await queue.add({ text: big }, { maxAttempts: 1 });
      await queue.add(Buffer.alloc(10 * 1024 * 1024, 7), { maxAttempts: 1 });
      await queue.add("ünïcödé ".repeat(50));
      for (const job of await queue.reserveBatch(2))
        await queue.fail(job, new Error(`\u001b]0;owned\u0007${big}`));
      const { get } = await served(t, spool);

      const dead = await get("api/queues/big/jobs?state=dead");
      assert.equal(dead.status, 200);
      assert.ok(dead.body.length < 16 * 1024, `a page of 10 MB jobs answered ${dead.body.length} bytes`);
      const rows = (JSON.parse(dead.body) as { jobs: { preview: string; lastError: string }[] }).jobs;
      assert.equal(rows.length, 2);
      assert.equal(rows[0]?.preview, `{"text":"${"x".repeat(131)}…`);
      assert.equal(rows[1]?.preview, `<${10 * 1024 * 1024} bytes>`);
      assert.equal(rows[0]?.lastError.length, 201);

      const pending = JSON.parse((await get("api/queues/big/jobs?state=pending")).body) as {
        jobs: { preview: string }[];
      };
      assert.equal(pending.jobs[0]?.preview, `${JSON.stringify("ünïcödé ".repeat(50)).slice(0, 140)}…`);

      const detail = await get("api/queues/big/jobs/1");
      assert.equal(detail.status, 200);
      assert.ok(detail.body.length < 1024 * 1024, `the detail answered ${detail.body.length} bytes`);
      const shown = JSON.parse(detail.body) as { lastError: string; payload: { truncated: boolean } };
      assert.ok(shown.lastError.length <= 64 * 1024 + 1, `lastError of ${shown.lastError.length} chars`);
      assert.equal(shown.payload.truncated, true);
    });

    test("a queue name in the store that validation refuses does not break the overview", T, async (t) => {
      const spool = await store.open(t);
      await spool.queue("fine").add(1);
      // Written under the seam, as an older version or a hand-made row could have.
      await spool.ctx.backend.enqueue("bad name!", [job(1)]);
      const { get } = await served(t, spool);
      const res = await get("api/overview");
      assert.equal(res.status, 200, res.body);
      const names = (JSON.parse(res.body) as { queues: { name: string }[] }).queues.map((q) => q.name);
      assert.deepEqual(names, ["bad name!", "fine"]);
      assert.equal((await get("api/queues/bad%20name!/jobs")).status, 400);
    });
  });
}

describe("dashboard HTTP details", () => {
  test("405 answers say what is allowed", T, async (t) => {
    const [store] = stores;
    const spool = await store?.open(t);
    assert.ok(spool);
    await spool.queue("emails").add(1);
    const { url } = await served(t, spool);
    const getRetry = await raw(`${url}api/queues/emails/retry`);
    assert.deepEqual([getRetry.status, getRetry.headers.allow], [405, "POST"]);
    const putPage = await raw(url, { method: "PUT" });
    assert.deepEqual([putPage.status, putPage.headers.allow], [405, "GET, HEAD"]);
    const deleteJobs = await raw(`${url}api/queues/emails/jobs`, { method: "DELETE" });
    assert.deepEqual([deleteJobs.status, deleteJobs.headers.allow], [405, "GET, HEAD"]);
  });

  test("an allowedHosts entry name:443 accepts a Host header without a port", T, async (t) => {
    const [store] = stores;
    const spool = await store?.open(t);
    assert.ok(spool);
    const handler = dashboard(spool, { allowedHosts: ["ops.example.com:443", "plain.example.com:80"] });
    const server = createServer(handler).listen(0, "127.0.0.1");
    t.after(() => {
      handler.close();
      server.close();
    });
    await new Promise((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const status = async (host: string) => (await raw(base, { headers: { Host: host } })).status;
    assert.equal(await status("ops.example.com"), 200);
    assert.equal(await status("ops.example.com:443"), 200);
    assert.equal(await status("plain.example.com"), 200);
    assert.equal(await status("ops.example.com:8443"), 403);
    assert.equal(await status("evil.example.com"), 403);
  });

  test("?token= login works when mounted under a prefix", T, async (t) => {
    const [store] = stores;
    const spool = await store?.open(t);
    assert.ok(spool);
    const handler = dashboard(spool, { basePath: "/admin/queues", token: "s3cret-token" });
    const server = createServer(handler).listen(0, "127.0.0.1");
    t.after(() => {
      handler.close();
      server.close();
    });
    await new Promise((resolve) => server.once("listening", resolve));
    const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
    // A browser: follows redirects, and sends a cookie only where its Path matches (RFC 6265).
    const jar: { value: string; path: string }[] = [];
    const pathMatches = (cookiePath: string, path: string) =>
      path === cookiePath ||
      (path.startsWith(cookiePath) && (cookiePath.endsWith("/") || path[cookiePath.length] === "/"));
    const remember = (headers: IncomingHttpHeaders) => {
      for (const line of headers["set-cookie"] ?? []) {
        const [pair, ...attributes] = line.split(";").map((s) => s.trim());
        const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
        jar.push({ value: pair ?? "", path });
      }
    };
    let location = "/admin/queues?token=s3cret-token";
    for (let hop = 0; hop < 5; hop++) {
      const path = new URL(location, origin).pathname;
      const cookies = jar.filter((c) => pathMatches(c.path, path)).map((c) => c.value);
      const res = await raw(new URL(location, origin).href, {
        headers: cookies.length > 0 ? { Cookie: cookies.join("; ") } : {},
      });
      remember(res.headers);
      if (res.status === 200) {
        assert.match(res.body, /<meta name="spool-csrf"/);
        assert.ok(!new URL(location, origin).search.includes("token"), "the token left the URL");
        const api = await raw(`${origin}/admin/queues/api/overview`, {
          headers: { Cookie: jar.map((c) => c.value).join("; ") },
        });
        assert.equal(api.status, 200);
        return;
      }
      assert.ok([303, 308].includes(res.status), `${location} → ${res.status} ${res.body}`);
      location = String(res.headers.location);
    }
    assert.fail("the login never reached the page");
  });
});

describe("dashboard and PostgreSQL passwords", { skip: PG_URL ? false : "SPOOL_PG_URL is not set" }, () => {
  /** The server trusts local connections, so any password connects: the point is where it shows. */
  const FORMS: { url: (base: URL) => string; secrets: string[] }[] = [
    { url: (b) => `postgres://postgres:Plain-S3cret@${b.host}${b.pathname}`, secrets: ["Plain-S3cret"] },
    {
      url: (b) => `postgres://postgres@${b.host}${b.pathname}?password=Query-S3cret`,
      secrets: ["Query-S3cret"],
    },
    {
      url: (b) => `postgres://postgres:At@S3cr@t@${b.host}${b.pathname}`,
      secrets: ["At@S3cr@t", "S3cr@t", "At%40S3cr"],
    },
    {
      url: (b) => `postgres://postgres:Sp ace S3cret@${b.host}${b.pathname}`,
      secrets: ["Sp ace S3cret", "ace S3cret", "Sp%20ace"],
    },
    {
      url: (b) => `postgres://postgres:Pct%2FS3cret%21@${b.host}${b.pathname}?sslpassword=Ssl-S3cret`,
      secrets: ["Pct%2FS3cret", "Pct/S3cret", "Ssl-S3cret"],
    },
  ];

  for (const [i, form] of FORMS.entries()) {
    test(`form ${i + 1}: overview, errors and the page never show the password`, T, async (t) => {
      const target = form.url(new URL(PG_URL as string));
      const schema = `spool_dash_pw_${process.pid}_${i}`;
      const spool = await Spool.open(target, { schema });
      t.after(async () => {
        const { default: pg } = await import("pg");
        await spool.close();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      });
      await spool.queue("q").add(1);
      const { url, get } = await served(t, spool);
      const bodies = [
        (await get("api/overview")).body,
        (await raw(url)).body,
        (await get("app.js")).body,
        (await get("api/queues/q/jobs")).body,
        spool.target,
      ];
      for (const secret of form.secrets) {
        for (const body of bodies)
          assert.ok(!body.includes(secret), `${secret} appears in ${body.slice(0, 300)}`);
      }
      assert.match(JSON.parse(bodies[0] ?? "{}").target, /\*\*\*/);
      // An error message from the store names the target too.
      await spool.close();
      const failed = await Spool.open(target.replace(new URL(PG_URL as string).host, "127.0.0.1:1"), {
        schema,
      }).then(
        () => "opened",
        (error: Error) => `${error.message} ${String(error.cause)}`,
      );
      for (const secret of form.secrets)
        assert.ok(!failed.includes(secret), `${secret} appears in ${failed}`);
    });
  }
});
