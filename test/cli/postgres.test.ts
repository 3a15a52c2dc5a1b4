// The same commands on PostgreSQL (SPOOL_PG_URL), each test file in a schema of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { dropSchemas, ndjson, spool } from "./helpers.js";

const base = process.env.SPOOL_PG_URL;

describe("spool on PostgreSQL", { skip: base ? false : "SPOOL_PG_URL is not set" }, () => {
  const schemas: string[] = [];
  /** The target URL with a fresh `?schema=`, as a user would isolate one app's queues. */
  const target = () => {
    const url = new URL(base ?? "");
    const schema = `spool_cli_${randomBytes(4).toString("hex")}`;
    schemas.push(schema);
    url.searchParams.set("schema", schema);
    return { url: url.toString(), schema };
  };

  after(() => dropSchemas(schemas));

  test("add, stats, list, retry and purge", async () => {
    const { url, schema } = target();
    assert.equal((await spool(["add", url, "mail", '{"to":"ada"}'])).stdout, "1\n");
    const s = await Spool.open(base ?? "", { schema });
    const q = s.queue("mail");
    await q.add("doomed", { maxAttempts: 1 });
    const job = await q.reserve();
    assert.ok(job);
    const again = await q.reserve();
    assert.ok(again);
    await q.complete(job);
    await q.fail(again, new Error("nope"));
    await s.close();

    const stats = JSON.parse((await spool(["stats", url, "--json"])).stdout) as {
      queues: Record<string, unknown>;
    };
    assert.deepEqual(stats.queues.mail, {
      ...(stats.queues.mail as object),
      completed: 1,
      dead: 1,
      pending: 0,
      total: 2,
      paused: false,
    });

    const list = await spool(["list", url, "mail", "--state", "dead"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^\s*2\s+dead\s+1\/1\s+.*nope\s+"doomed"$/m);

    assert.deepEqual(JSON.parse((await spool(["retry", url, "mail", "--all", "--json"])).stdout), {
      retried: 1,
    });
    assert.deepEqual(
      JSON.parse((await spool(["purge", url, "mail", "--state", "completed", "--json"])).stdout),
      {
        purged: 1,
      },
    );
  });

  test("import then export on PostgreSQL keeps JSON and binary payloads", async () => {
    const { url } = target();
    const input = [
      JSON.stringify({ payload: { a: [1, 2] } }),
      JSON.stringify({ payload: Buffer.from([0, 255, 7]).toString("base64"), encoding: "base64" }),
    ].join("\n");
    const imported = await spool(["import", url, "copy"], { input });
    assert.equal(imported.code, 0, imported.stderr);
    const out = ndjson((await spool(["export", url, "copy"])).stdout);
    assert.deepEqual(
      out.map((j) => [j.payload, j.encoding]),
      [
        [{ a: [1, 2] }, undefined],
        ["AP8H", "base64"],
      ],
    );
  });

  test("--schema picks the schema too", async () => {
    const { schema } = target();
    const r = await spool(["add", base ?? "", "q", "1", "--schema", schema]);
    assert.equal(r.code, 0, r.stderr);
    const url = new URL(base ?? "");
    url.searchParams.set("schema", schema);
    assert.match((await spool(["stats", url.toString()])).stdout, /^q\s+0\s+1\s+/m);
  });
});
