// A worker in its own process, for the pause and progress tests. argv: <target json> <queue>.
// Prints "ran <id>" as each job starts. A job whose payload is "block" waits for a line "go" on
// stdin; one whose payload is { progress: n } reports that progress, prints "progressed <id>",
// then waits for "go" too. pollInterval is a minute: only wake-ups make it claim promptly.
import { createInterface } from "node:readline";
import { arg, openFromArgs, say } from "./open.js";

let gos = 0;
const waiting: Array<() => void> = [];
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "go") return;
  const next = waiting.shift();
  if (next) next();
  else gos++;
});
function go(): Promise<void> {
  if (gos > 0) {
    gos--;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}

const spool = await openFromArgs();
const worker = spool.queue(arg(3)).process(
  async (job, ctx) => {
    say(`ran ${job.id}`);
    const payload = job.payload as unknown;
    if (payload === "block") await go();
    if (typeof payload === "object" && payload !== null && "progress" in payload) {
      await ctx.progress((payload as { progress: number }).progress);
      say(`progressed ${job.id}`);
      await go();
    }
  },
  { concurrency: 1, pollInterval: 60_000 },
);
worker.on("error", (e) => process.stderr.write(`worker error: ${String(e)}\n`));
process.on("SIGTERM", async () => {
  await worker.stop({ timeout: 1000 });
  await spool.close();
  process.exit(0);
});
say("ready");
