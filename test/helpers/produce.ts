// Adds jobs forever from several concurrent loops, printing each id once its add resolved.
// argv: <target json> <queue> <loops>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const q = spool.queue<{ pid: number; n: number }>(arg(3));
const loops = Number(arg(4));
say("ready");
let n = 0;
await Promise.all(
  Array.from({ length: loops }, async () => {
    for (;;) {
      const id = await q.add({ pid: process.pid, n: n++ });
      say(`added ${id}`);
    }
  }),
);
