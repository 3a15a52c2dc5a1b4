// A fuzz producer: adds jobs with random options from several loops, forever, and records each
// id only after its add resolved (acknowledged = committed: the ids the round must find).
import { Spool } from "../../src/index.js";
import type { AddOptions } from "../../src/types.js";
import { codeOf, config, type ProducerConfig, RETENTION, recorder } from "./log.js";
import { rng } from "./rng.js";

const cfg = config<ProducerConfig>();
const random = rng(cfg.seed);
const record = recorder(cfg.dir, "producer");
const spool = await Spool.open(cfg.target, cfg.options);
const q = spool.queue<{ pid: number; n: number }>(cfg.queue, { retention: RETENTION });
let n = 0;

function options(): AddOptions {
  const o: AddOptions = {
    maxAttempts: random.int(1, 3),
    backoff: { type: "fixed", delay: random.int(0, 200) },
  };
  if (random.chance(0.3)) o.priority = random.int(-2, 2);
  if (random.chance(0.2)) o.delay = random.int(1, 300);
  // A few dedupe keys from a small set: an add may return a live job's id instead of a new one.
  if (random.chance(0.05)) o.key = `k${random.int(0, 9)}`;
  return o;
}

async function loop(): Promise<void> {
  for (;;) {
    try {
      if (random.chance(0.15)) {
        const payloads = Array.from({ length: random.int(2, 6) }, () => ({ pid: process.pid, n: n++ }));
        const ids = await q.addBatch(payloads, options());
        record({ e: "acked", pid: process.pid, ids });
      } else {
        const id = await q.add({ pid: process.pid, n: n++ }, options());
        record({ e: "acked", pid: process.pid, ids: [id] });
      }
    } catch (err) {
      record({ e: "error", pid: process.pid, t: Date.now(), code: codeOf(err), message: String(err) });
    }
    await new Promise((r) => setTimeout(r, random.int(0, cfg.maxPauseMs)));
  }
}

process.stdout.write("ready\n");
await Promise.all(Array.from({ length: cfg.loops }, loop));
