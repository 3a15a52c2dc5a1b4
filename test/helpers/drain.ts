// Drains a queue with reserve + complete, printing every id it got; starts on "go".
// argv: <target json> <queue>
import { arg, heard, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const q = spool.queue(arg(3));
say("ready");
await heard("go");
for (;;) {
  const job = await q.reserve({ lease: 60_000 });
  if (!job) break;
  await q.complete(job);
  say(`got ${job.id}`);
}
await spool.close();
say("done");
