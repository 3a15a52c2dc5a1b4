// Runs the built package where neither prom-client nor @opentelemetry/* can be loaded (see
// refuse-peers.mjs): the main entry, a worker, metrics and the dashboard must all work, and
// the dashboard's /metrics must say what is missing. Prints one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dist = new URL("../../dist/", import.meta.url);
const { Spool } = await import(new URL("index.js", dist).href);
const { startDashboard } = await import(new URL("dashboard/server.js", dist).href);

const dir = mkdtempSync(join(tmpdir(), "spool-no-peers-"));
try {
  const spool = await Spool.open(join(dir, "jobs.db"));
  const queue = spool.queue("q");
  await queue.add({ n: 1 });
  await new Promise((resolve, reject) => {
    const worker = queue.process(() => "done");
    worker.on("completed", () => void worker.stop().then(resolve, reject));
  });
  const metrics = await spool.metrics();
  const server = await startDashboard(spool, { port: 0 });
  const scrape = await new Promise((resolve, reject) => {
    request(`${server.url}metrics`, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    })
      .on("error", reject)
      .end();
  });
  await server.close();
  await spool.close();
  let promClient = "loaded";
  await import("prom-client").catch((e) => {
    promClient = e.code;
  });
  console.log(JSON.stringify({ completed: metrics.counters.completed, scrape, promClient }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
