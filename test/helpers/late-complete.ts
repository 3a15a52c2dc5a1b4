// Reserves one job, waits for "go" (the parent stops and resumes us meanwhile), then tries to
// complete it and reports the outcome. argv: <target json> <queue> <lease ms>
import { arg, codeOf, heard, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const q = spool.queue(arg(3));
const job = await q.reserve({ lease: Number(arg(4)) });
if (!job) throw new Error("no job to reserve");
say(`reserved ${job.id} ${job.leaseUntil.getTime()}`);
await heard("go");
try {
  await q.complete(job, "late");
  say("result ok");
} catch (err) {
  say(`result ${codeOf(err)}`);
}
await spool.close();
