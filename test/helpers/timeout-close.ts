// A worker whose handler ignores its signal, with a long per-job timeout: the child stops the
// worker without waiting, closes the Spool and says "closed"; it must then exit on its own.
// argv: <target json> <queue>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const queue = spool.queue(arg(3));
await queue.add("ignored");
let started!: () => void;
const running = new Promise<void>((resolve) => {
  started = resolve;
});
const worker = queue.process(
  async () => {
    started();
    await new Promise(() => {});
  },
  { timeout: 600_000 },
);
await running;
await worker.stop({ timeout: 0 });
await spool.close();
say("closed");
