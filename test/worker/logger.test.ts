// Spool.open({ logger }): what a worker only emitted as "error" is logged too, with its queue,
// job and attempt; never a payload or a password. Silent by default; checked at open.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
import type { SpoolLogger } from "../../src/metrics/logger.js";
import { expectCode, waitFor } from "../conformance/harness.js";
import { Gate, queueOn, RecordingBackend } from "./recording-backend.js";

const T = { timeout: 30_000 };

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(): { logger: SpoolLogger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    void lines.push({ level, obj, msg });
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

describe("logger", () => {
  test("a logger that is not in pino's shape is INVALID_ARGUMENT, and nothing is opened", T, async () => {
    await expectCode(
      () => Spool.open(":memory:", { logger: "console" as never }),
      "INVALID_ARGUMENT",
      "logger",
    );
    await expectCode(
      () => Spool.open(":memory:", { logger: { info() {}, error() {} } as never }),
      "INVALID_ARGUMENT",
      "debug, warn",
    );
  });

  test("a lost lease is logged as a warning with queue, job and attempt, never the payload", T, async (t) => {
    const { logger, lines } = recorder();
    const spool = await Spool.open(":memory:", { logger });
    t.after(() => spool.close());
    const q = spool.queue<string>("mail");
    const id = await q.add("SECRET-PAYLOAD");
    const started = new Gate();
    const release = new Gate();
    const worker = q.process(async () => {
      started.open();
      await release.opened;
    });
    worker.on("error", () => {});
    await started.opened;
    await q.fail(id, new Error("taken from its holder")); // by id: the worker's hold is gone
    release.open();
    await waitFor("the lease loss logged", () => lines.some((l) => l.level === "warn"));
    const line = lines.find((l) => l.level === "warn");
    assert.deepEqual(
      { queue: line?.obj.queue, jobId: line?.obj.jobId, attempt: line?.obj.attempt, code: line?.obj.code },
      { queue: "mail", jobId: id, attempt: 1, code: "LEASE_LOST" },
    );
    assert.ok(!JSON.stringify(lines).includes("SECRET-PAYLOAD"), "no payload in any log line");
    assert.equal((await spool.metrics()).counters.leaseLost, 1);
  });

  test(
    "a storage error is logged as an error with its queue, and a password in it is hidden",
    T,
    async (t) => {
      const backend = await RecordingBackend.open();
      const { queue, close } = queueOn<number>(backend);
      t.after(close);
      const { logger, lines } = recorder();
      queue.ctx.instruments.logger = logger;
      backend.failNextClaim = new SpoolError("STORAGE", "lost postgres://app:hunter2secret@db/jobs");
      const seen: number[] = [];
      const worker = queue.process((job) => void seen.push(job.id));
      worker.on("error", () => {});
      const id = await queue.add(1);
      await waitFor("the job handled after the failed claim", () => seen.includes(id));
      const line = lines.find((l) => l.level === "error");
      assert.equal(line?.obj.queue, "q");
      assert.equal(line?.obj.code, "STORAGE");
      assert.match(String(line?.obj.err), /lost postgres:\/\/app:\*\*\*@db\/jobs/);
      assert.ok(!JSON.stringify(lines).includes("hunter2secret"));
    },
  );
});

describe("a broken logger", () => {
  test("methods that throw or return rejected promises are ignored wherever Spool logs", T, async () => {
    const { checkLogger } = await import("../../src/metrics/logger.js");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let calls = 0;
      const throwing = checkLogger({
        debug() {
          calls++;
          throw new Error("debug broke");
        },
        info() {
          calls++;
          throw new Error("info broke");
        },
        warn() {
          calls++;
          throw new Error("warn broke");
        },
        error() {
          calls++;
          throw new Error("error broke");
        },
      });
      const rejecting = checkLogger({
        debug: async () => Promise.reject(new Error("debug rejected")),
        info: async () => Promise.reject(new Error("info rejected")),
        warn: async () => Promise.reject(new Error("warn rejected")),
        error: async () => Promise.reject(new Error("error rejected")),
      });
      // What the notifiers call directly, in pg's and fs.watch's event handlers.
      for (const logger of [throwing, rejecting]) {
        for (const level of ["debug", "info", "warn", "error"] as const) logger[level]({ queue: "q" }, "x");
      }
      assert.equal(calls, 4, "the user's methods were called");
      await new Promise((resolve) => setImmediate(resolve)); // unhandled rejections are told by then
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
