// An application process for the schedule tests: states the schedule on boot (as an app would
// on every start) and runs a worker on its queue, which fires the schedule too. argv: <target
// json> <schedule name> <queue> <cron>. Prints "ready" once both run; SIGTERM stops it.
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
await spool.schedule(arg(3), arg(5), { queue: arg(4) });
const worker = spool.queue(arg(4)).process(async () => {}, { concurrency: 2 });
worker.on("error", (e) => process.stderr.write(`worker error: ${String(e)}\n`));
process.on("SIGTERM", async () => {
  await worker.stop({ timeout: 1000 });
  await spool.close();
  process.exit(0);
});
say("ready");
