// A fuzz worker: runs handlers of random length that fail at random, logging every run's start
// and end and every heartbeat (when it was issued, which jobs it kept), so the parent can tell
// whether two runs of one job overlapped inside one lease. Stops gracefully on SIGTERM.
import { Spool } from "../../src/index.js";
import { codeOf, config, RETENTION, recorder, type WorkerConfig } from "./log.js";
import { rng } from "./rng.js";

const cfg = config<WorkerConfig>();
const random = rng(cfg.seed);
const record = recorder(cfg.dir, "worker");
const pid = process.pid;
const spool = await Spool.open(cfg.target, cfg.options);
const q = spool.queue<unknown>(cfg.queue, { retention: RETENTION });

// The heartbeat's issue time is a sound lower bound of the lease it sets (the store's own now is
// later), which the job's in-memory leaseUntil (set after the round trip) is not: wrap it.
const backend = q.ctx.backend;
const extendMany = backend.extendMany.bind(backend);
backend.extendMany = async (queue, held, ms) => {
  const t = Date.now();
  const outcome = await extendMany(queue, held, ms);
  // A skipped row was not renewed: recorded as not held by this heartbeat, like a lost one.
  const lost = [...outcome.lost, ...outcome.skipped];
  record({ e: "hb", pid, t, done: Date.now(), ms, held: held.map((h) => [h.id, h.token]), lost });
  return outcome;
};

/** Mostly quick runs, some long enough for several heartbeats. */
function duration(): number {
  const roll = random.next();
  if (roll < 0.7) return random.int(0, 50);
  if (roll < 0.95) return random.int(50, 300);
  return random.int(300, cfg.maxHandlerMs);
}

let runs = 0;
const worker = q.process(
  async (job, { signal }) => {
    const run = `${pid}.${++runs}`;
    const ms = duration();
    const fails = random.chance(cfg.failRate);
    // Tells the parent a handler runs here, so its SIGSTOPs can land mid-run.
    process.stdout.write("+\n");
    record({
      e: "start",
      run,
      pid,
      job: job.id,
      attempt: job.attempts,
      ...(job.token === undefined ? {} : { token: job.token }),
      t: Date.now(),
      lease: job.leaseUntil.getTime(),
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const outcome = signal.aborted ? "aborted" : fails ? "fail" : "ok";
    record({ e: "end", run, t: Date.now(), lease: job.leaseUntil.getTime(), outcome });
    process.stdout.write("-\n");
    if (fails) throw new Error(`fuzz failure ${run}`);
    return { run, attempt: job.attempts };
  },
  { concurrency: cfg.concurrency, lease: cfg.lease, pollInterval: cfg.pollInterval },
);
worker.on("error", (err) =>
  record({ e: "error", pid, t: Date.now(), code: codeOf(err), message: String(err) }),
);
process.on("SIGTERM", () => {
  void (async () => {
    await worker.stop({ timeout: cfg.stopTimeout });
    await spool.close();
    process.exit(0);
  })();
});
process.stdout.write("ready\n");
