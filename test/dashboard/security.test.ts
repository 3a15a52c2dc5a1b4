/*
 * The dashboard's defences over raw HTTP: Host allow-list, CSRF on every mutation, the token,
 * the refusal to bind beyond loopback without one, and the headers that lock the page down.
 */
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { dashboard, startDashboard } from "../../src/dashboard/server.js";
import { SpoolError } from "../../src/index.js";
import { csrfOf, raw, seedEveryState, sqliteStore } from "./helpers.js";

const T = { timeout: 30_000 };

async function served(t: TestContext, token?: string) {
  const spool = await sqliteStore.open(t);
  const deadId = await seedEveryState(spool.queue("emails"));
  const server = await startDashboard(spool, token === undefined ? { port: 0 } : { port: 0, token });
  t.after(() => server.close());
  return { spool, deadId, url: server.url, host: new URL(server.url).host };
}

describe("dashboard security", () => {
  test("a forged POST without the CSRF token is refused and changes nothing", T, async (t) => {
    const { spool, deadId, url, host } = await served(t);
    const retry = `${url}api/queues/emails/retry`;
    const json = { "Content-Type": "application/json" };
    const bare = await raw(retry, { method: "POST", headers: json, body: "{}" });
    assert.equal(bare.status, 403);
    const wrong = await raw(retry, {
      method: "POST",
      headers: { ...json, "X-Spool-CSRF": "guess" },
      body: "{}",
    });
    assert.equal(wrong.status, 403);
    const csrf = csrfOf((await raw(url)).body);
    const crossSite = await raw(retry, {
      method: "POST",
      headers: { ...json, "X-Spool-CSRF": csrf, Origin: "http://evil.example" },
      body: "{}",
    });
    assert.equal(crossSite.status, 403);
    const purge = await raw(`${url}api/queues/emails/purge`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ state: "dead" }),
    });
    assert.equal(purge.status, 403);
    assert.equal((await spool.queue("emails").get(deadId))?.state, "dead");

    // The same request from the page (its token, its origin) goes through.
    const real = await raw(retry, {
      method: "POST",
      headers: { ...json, "X-Spool-CSRF": csrf, Origin: `http://${host}` },
      body: JSON.stringify({ ids: [deadId] }),
    });
    assert.equal(real.status, 200);
    assert.deepEqual(JSON.parse(real.body), { moved: 1 });
    assert.equal((await spool.queue("emails").get(deadId))?.state, "pending");
  });

  test("mutations are never GETs", T, async (t) => {
    const { spool, url } = await served(t);
    const res = await raw(`${url}api/queues/emails/purge?state=dead`);
    assert.equal(res.status, 405);
    assert.equal((await spool.queue("emails").size()).dead, 1);
  });

  test("a request path that starts with // is a path, not a host: 404, never 500", T, async (t) => {
    const { url } = await served(t);
    const { hostname, port } = new URL(url);
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        request({ hostname, port, path, headers: { Host: `${hostname}:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on("error", reject)
          .end();
      });
    assert.equal(await status("//"), 404);
    assert.equal(await status("//evil.example/api/overview"), 404);
    assert.equal(await status("/api/overview"), 200);
  });

  test("pause and resume: POST only, CSRF-checked, existing queues only", T, async (t) => {
    const { spool, url, host } = await served(t);
    const queue = spool.queue("emails");
    const pause = `${url}api/queues/emails/pause`;
    assert.equal((await raw(pause)).status, 405);
    const json = { "Content-Type": "application/json" };
    assert.equal((await raw(pause, { method: "POST", headers: json, body: "{}" })).status, 403);
    assert.equal(await queue.isPaused(), false, "a refused pause paused nothing");
    const csrf = csrfOf((await raw(url)).body);
    const page = { ...json, "X-Spool-CSRF": csrf, Origin: `http://${host}` };
    const unknown = await raw(`${url}api/queues/nobody/pause`, { method: "POST", headers: page, body: "{}" });
    assert.equal(unknown.status, 404);
    assert.equal(await spool.queue("nobody").isPaused(), false);
    const notObject = await raw(pause, { method: "POST", headers: page, body: "[]" });
    assert.equal(notObject.status, 400);
    const ok = await raw(pause, { method: "POST", headers: page, body: "{}" });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { paused: true });
    assert.equal(await queue.isPaused(), true);
    const resumed = await raw(`${url}api/queues/emails/resume`, {
      method: "POST",
      headers: page,
      body: "{}",
    });
    assert.deepEqual(JSON.parse(resumed.body), { paused: false });
    assert.equal(await queue.isPaused(), false);
  });

  test("a wrong Host header gets 403 (DNS rebinding)", T, async (t) => {
    const { url, host } = await served(t);
    const port = new URL(url).port;
    for (const bad of [`evil.example:${port}`, "evil.example", `127.0.0.1:${Number(port) + 1}`]) {
      const res = await raw(`${url}api/overview`, { headers: { Host: bad } });
      assert.equal(res.status, 403, bad);
    }
    assert.equal((await raw(`${url}api/overview`, { headers: { Host: host } })).status, 200);
    assert.equal((await raw(`${url}api/overview`, { headers: { Host: `localhost:${port}` } })).status, 200);
  });

  test("a non-loopback bind without a token is refused", T, async (t) => {
    const saved = process.env.SPOOL_DASHBOARD_TOKEN;
    delete process.env.SPOOL_DASHBOARD_TOKEN;
    t.after(() => {
      if (saved !== undefined) process.env.SPOOL_DASHBOARD_TOKEN = saved;
    });
    const spool = await sqliteStore.open(t);
    await assert.rejects(
      startDashboard(spool, { host: "0.0.0.0", port: 0 }),
      (e: unknown) =>
        e instanceof SpoolError && e.code === "INVALID_ARGUMENT" && /without a token/.test(e.message),
    );
  });

  test("with a token, a request without it gets 401; the token or its cookie gets in", T, async (t) => {
    const { url } = await served(t, "s3cret-token");
    const denied = await raw(`${url}api/overview`);
    assert.equal(denied.status, 401);
    assert.equal((await raw(url)).status, 401);
    assert.equal(
      (await raw(`${url}api/overview`, { headers: { Authorization: "Bearer nope" } })).status,
      401,
    );
    assert.equal((await raw(`${url}?token=nope`)).status, 401);
    const bearer = await raw(`${url}api/overview`, { headers: { Authorization: "Bearer s3cret-token" } });
    assert.equal(bearer.status, 200);

    const visit = await raw(`${url}?token=s3cret-token`);
    assert.equal(visit.status, 303);
    assert.equal(visit.headers.location, "/");
    const cookie = visit.headers["set-cookie"]?.[0] ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /s3cret-token/);
    const session = cookie.split(";")[0] ?? "";
    assert.equal((await raw(`${url}api/overview`, { headers: { Cookie: session } })).status, 200);
  });

  test("every response carries a strict CSP and nosniff; the page loads nothing external", T, async (t) => {
    const { url } = await served(t);
    for (const path of ["", "app.js", "style.css", "api/overview", "missing"]) {
      const res = await raw(`${url}${path}`);
      const csp = String(res.headers["content-security-policy"]);
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /script-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(res.headers["x-content-type-options"], "nosniff", path);
    }
    const page = (await raw(url)).body;
    assert.doesNotMatch(page, /(src|href)="(https?:)?\/\//);
    // The only URL in the script is the SVG namespace, which is a name, never fetched.
    const script = (await raw(`${url}app.js`)).body;
    assert.ok(!/innerHTML|insertAdjacentHTML|document\.write/.test(script), "the script writes no HTML");
    assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg")/.test(script), "the script names no external URL");
  });

  test("a handler mounted under a base path serves there and nowhere else", T, async (t) => {
    const spool = await sqliteStore.open(t);
    await spool.queue("q").add({ a: 1 });
    const handler = dashboard(spool, { basePath: "/admin/spool" });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(async () => {
      handler.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bare = await raw(`${base}/admin/spool`);
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.location, "/admin/spool/");
    assert.equal((await raw(`${base}/admin/spool/`)).status, 200);
    assert.equal((await raw(`${base}/other/`)).status, 404);
    const overview = await raw(`${base}/admin/spool/api/overview`);
    assert.equal(overview.status, 200);
    const body = JSON.parse(overview.body) as { queues: { name: string; size: { pending: number } }[] };
    assert.deepEqual(
      body.queues.map((q) => [q.name, q.size.pending]),
      [["q", 1]],
    );
  });

  test(
    "behind a router that strips its mount path, redirects and cookies keep the full path",
    T,
    async (t) => {
      const spool = await sqliteStore.open(t);
      const handler = dashboard(spool, { token: "tok" });
      // What Express's app.use("/ops", handler) does: req.url loses the prefix, originalUrl keeps it.
      const server = createServer((req, res) => {
        const url = req.url ?? "/";
        if (!url.startsWith("/ops")) return void res.writeHead(404).end();
        Object.assign(req, { originalUrl: url, url: url.slice(4) || "/" });
        handler(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      t.after(async () => {
        handler.close();
        await new Promise((resolve) => server.close(resolve));
      });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const auth = { Authorization: "Bearer tok" };
      const bare = await raw(`${base}/ops`, { headers: auth });
      assert.equal(bare.status, 308);
      assert.equal(bare.headers.location, "/ops/");
      assert.equal((await raw(`${base}/ops/`, { headers: auth })).status, 200);
      assert.equal((await raw(`${base}/ops/app.js`, { headers: auth })).status, 200);
      const visit = await raw(`${base}/ops/?token=tok`);
      assert.equal(visit.headers.location, "/ops/");
      // The mount path itself, so the cookie also rides on "/ops" (no slash); RFC 6265 path
      // matching still keeps it from "/opsX".
      assert.match(visit.headers["set-cookie"]?.[0] ?? "", /Path=\/ops;/);
    },
  );
});
