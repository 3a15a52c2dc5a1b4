// A worker in its own process, for the limits tests. argv: <target json> <queue>. Its handle
// states no limit: it follows the ones stored with the queue. Prints "start <id> <ms>" as each
// job's handler starts (the wall clock: every process here shares it) with when it was claimed
// (its lease's end less the lease, on the store's clock), "ready" once running.
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const queue = spool.queue(arg(3));
const worker = queue.process(
  async (job) => {
    say(`start ${job.id} ${Date.now()} ${job.leaseUntil.getTime() - queue.lease}`);
  },
  { concurrency: 20, pollInterval: 60_000 },
);
worker.on("error", (e) => process.stderr.write(`worker error: ${String(e)}\n`));
process.on("SIGTERM", async () => {
  await worker.stop({ timeout: 1000 });
  await spool.close();
  process.exit(0);
});
say("ready");
