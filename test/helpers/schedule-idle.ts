// Runs a scheduler and returns without closing the Spool: the process must still exit on its
// own (the scheduler's timer keeps nothing alive). argv: <target json>.
import { openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
await spool.schedule("tick", "* * * * * *", { queue: "ticks" });
spool.runScheduler();
say("started");
