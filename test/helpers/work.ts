// A `spool work`-style process: runs a worker, records every handler run in a file, and stops
// gracefully on SIGTERM. argv: <target json> <queue> <runs file> <concurrency> <lease ms> <handler ms>
import { appendFileSync } from "node:fs";
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const q = spool.queue(arg(3));
const runs = arg(4);
const handlerMs = Number(arg(7));
const worker = q.process(
  async (job, { signal }) => {
    appendFileSync(runs, `${job.id}\n`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.round(Math.random() * handlerMs));
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return process.pid;
  },
  { concurrency: Number(arg(5)), lease: Number(arg(6)), pollInterval: 100 },
);
worker.on("error", (e) => process.stderr.write(`worker error: ${String(e)}\n`));
process.on("SIGTERM", async () => {
  await worker.stop({ timeout: 5000 });
  await spool.close();
  say("stopped");
  process.exit(0);
});
say("ready");
