// Moves the jobs of a queue between pending and reserved, over and over, until killed: reserve
// one, fail it back to pending at once. argv: <target json> <queue>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const q = spool.queue(arg(3));
let announced = false;
for (;;) {
  const job = await q.reserve({ lease: 600_000 });
  if (job !== null) await q.fail(job, "toggled", { retryIn: 0 });
  if (!announced) {
    announced = true;
    say("toggling");
  }
}
