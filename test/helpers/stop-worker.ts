// A worker whose handler waits for "go" on stdin; the parent stops (SIGSTOP) this process past
// the lease meanwhile. Reports every outcome event, then stops the worker and says "stopped".
// argv: <target json> <queue> <lease ms>
import { arg, codeOf, heard, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const go = heard("go");
const worker = spool.queue(arg(3)).process(
  async (job) => {
    say(`running ${job.id}`);
    await go;
    return "child";
  },
  { lease: Number(arg(4)) },
);
worker.on("completed", (job) => say(`completed ${job.id}`));
worker.on("failed", (job) => say(`failed ${job.id}`));
worker.on("error", (err) => say(`error ${codeOf(err)}`));
await go;
await worker.stop({ timeout: 5000 });
await spool.close();
say("stopped");
