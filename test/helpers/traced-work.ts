// A worker process with its own tracer: handles one job of queue argv[3], then prints every
// span it exported as one JSON line and exits. argv: <target json> <queue>

import { arg, openFromArgs, say } from "./open.js";
import { installTracer, summaries } from "./otel.js";

const tracer = installTracer();
const spool = await openFromArgs();
const worker = spool.queue(arg(3)).process(() => "done");
worker.on("error", (e) => process.stderr.write(`worker error: ${String(e)}\n`));
say("ready");
await new Promise<void>((resolve) => worker.once("completed", () => resolve()));
await worker.stop();
await spool.close();
say(JSON.stringify(summaries(tracer.exporter)));
await tracer.close();
