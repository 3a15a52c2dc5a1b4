// `spool import` when the connection is lost while a batch commits (PostgreSQL): the server may
// have committed a batch whose answer never arrived. Whatever the hint says, following it must
// add every line once: none twice, none lost.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import pg from "pg";
import { Spool } from "../../src/index.js";
import { dropSchemas, exited, spool, start, waitFor } from "./helpers.js";

const base = process.env.SPOOL_PG_URL;
const LINES = 20_000;
const input = Array.from({ length: LINES }, (_, i) => `{"payload":{"n":${i + 1}}}`).join("\n");

/**
 * A TCP proxy to PostgreSQL that, once armed, drops the next answer the server sends (on any
 * connection) and every open connection with it, as a network failure would. `refuseAfter`: it
 * then also stops accepting connections (the server is gone for good), else it serves new ones.
 */
async function proxy(
  refuseAfter: boolean,
): Promise<{ port: number; upstreamPorts: Set<number>; arm(): void; close(): Promise<void> }> {
  const server = new URL(base ?? "");
  const sockets = new Set<Socket>();
  /** The local ports of its connections to the server: pg_stat_activity's client_port. */
  const upstreamPorts = new Set<number>();
  let armed = false;
  let gone = false;
  const listener: Server = createServer((client) => {
    if (gone) return client.destroy();
    const upstream = connect(Number(server.port || 5432), server.hostname, () => {
      if (upstream.localPort !== undefined) upstreamPorts.add(upstream.localPort);
    });
    sockets.add(client).add(upstream);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      if (!armed) return void client.write(d);
      armed = false;
      gone = refuseAfter;
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("error", () => {});
      a.on("close", () => b.destroy());
    }
  });
  await new Promise<void>((ok) => listener.listen(0, "127.0.0.1", ok));
  const port = (listener.address() as { port: number }).port;
  return {
    port,
    upstreamPorts,
    arm: () => {
      armed = true;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        listener.close(() => ok());
      }),
  };
}

describe("spool import on a lost connection", { skip: base ? false : "SPOOL_PG_URL is not set" }, () => {
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));

  for (const refuseAfter of [false, true]) {
    const title = refuseAfter ? "the server stays unreachable" : "the server answers again";
    test(`resuming as the hint says adds every line once (${title})`, async () => {
      const schema = `spool_doubt_${randomBytes(4).toString("hex")}`;
      schemas.push(schema);
      const direct = await Spool.open(base ?? "", { schema });
      const q = direct.queue("q");
      const p = await proxy(refuseAfter);
      try {
        const via = new URL(base ?? "");
        via.port = String(p.port);
        via.searchParams.set("schema", schema);
        const run = start(["import", via.toString(), "q"], { input });
        // Drop an answer once a few batches are in: the next one is a batch's INSERT finishing.
        await waitFor("three batches imported", async () => (await q.size()).total >= 3000);
        p.arm();
        const first = await exited(run);
        assert.equal(first.code, 1, first.stderr);
        // The server may still be running what reached it before the connection dropped (a
        // COMMIT sent behind the INSERT whose answer was lost): look once those sessions end,
        // as a user reading the hint would, not while the batch is still landing.
        await waitFor("the dropped sessions to end on the server", async () => {
          const client = new pg.Client({ connectionString: base });
          await client.connect();
          try {
            const { rows } = await client.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_port = ANY($1::int[])",
              [[...p.upstreamPorts]],
            );
            return rows[0]?.n === 0;
          } finally {
            await client.end();
          }
        });
        const direct2 = new URL(base ?? "");
        direct2.searchParams.set("schema", schema);
        // Follow the hint: the first resume point it gives, unless it says the batch is in the
        // queue (then the second): look as a user would, for the batch's first payload.
        const skips = [...first.stderr.matchAll(/--skip (\d+)/g)].map((m) => Number(m[1]));
        assert.ok(skips.length > 0, first.stderr);
        let skip = skips[0] as number;
        if (skips.length > 1) {
          const lines = /stdin lines (\d+)–(\d+)/.exec(first.stderr);
          assert.ok(lines, first.stderr);
          const jobs = await q.list({ state: "pending", limit: LINES });
          const batchIn = jobs.some((j) => (j.payload as { n: number }).n === Number(lines[1]));
          skip = batchIn ? (skips[1] as number) : skip;
        }
        const resumed = await spool(["import", direct2.toString(), "q", "--skip", String(skip)], { input });
        assert.equal(resumed.code, 0, resumed.stderr);
        const jobs = await q.list({ state: "pending", limit: LINES * 2 });
        const ns = jobs.map((j) => (j.payload as { n: number }).n);
        assert.equal(new Set(ns).size, ns.length, "no line imported twice");
        assert.equal(ns.length, LINES, "every line imported");
      } finally {
        await p.close();
        await direct.close();
      }
    });
  }
});
