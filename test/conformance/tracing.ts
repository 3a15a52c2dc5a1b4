// OpenTelemetry: a producer span per add, a consumer span per run in the producer's trace,
// the context carried with the job in the store (so across processes too).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { job } from "../helpers/new-job.js";
import { installTracer, type SpanSummary, summaries } from "../helpers/otel.js";
import { type BackendFixture, child, childTarget, fresh, T, waitFor } from "./harness.js";

const byKind = (spans: SpanSummary[], kind: SpanKind) => spans.filter((s) => s.kind === kind);

export function tracing(b: BackendFixture): void {
  describe("tracing", () => {
    test(
      "an add in a span is a producer span; its run a consumer span parented on and linked to it",
      T,
      async (t) => {
        const tracer = installTracer();
        t.after(() => tracer.close());
        const { spool } = await fresh(b, t);
        const q = spool.queue<string>("traced");
        const id = await trace.getTracer("app").startActiveSpan("request", async (span) => {
          const added = await q.add("hello");
          span.end();
          return added;
        });
        let inHandler: string | undefined;
        const worker = q.process(() => {
          inHandler = trace.getActiveSpan()?.spanContext().spanId;
          throw new Error("boom");
        });
        await new Promise<void>((resolve) => worker.once("failed", () => resolve()));
        await worker.stop();
        const spans = summaries(tracer.exporter);
        const request = spans.find((s) => s.name === "request");
        const [producer] = byKind(spans, SpanKind.PRODUCER);
        const [consumer] = byKind(spans, SpanKind.CONSUMER);
        assert.ok(request && producer && consumer, `spans: ${spans.map((s) => s.name).join(", ")}`);
        assert.equal(producer.name, "send traced");
        assert.equal(producer.parentSpanId, request.spanId, "the add's span is the caller's child");
        assert.deepEqual(producer.attributes, {
          "messaging.system": "spool",
          "messaging.destination.name": "traced",
          "messaging.operation.type": "send",
          "messaging.operation.name": "add",
          "messaging.message.id": String(id),
        });
        assert.equal(consumer.name, "process traced");
        assert.equal(consumer.traceId, producer.traceId, "one trace");
        assert.equal(consumer.parentSpanId, producer.spanId);
        assert.deepEqual(consumer.links, [`${producer.traceId}/${producer.spanId}`]);
        assert.equal(consumer.attributes["messaging.operation.type"], "process");
        assert.equal(consumer.attributes["messaging.destination.name"], "traced");
        assert.equal(consumer.attributes["messaging.message.id"], String(id));
        assert.equal(consumer.status, SpanStatusCode.ERROR, "a failed run is an error span");
        assert.equal(inHandler, consumer.spanId, "the handler runs inside the consumer span");
      },
    );

    test("an addBatch is one producer span that every job's consumer span is parented on", T, async (t) => {
      const tracer = installTracer();
      t.after(() => tracer.close());
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("batch");
      await q.addBatch([1, 2, 3]);
      let done = 0;
      const worker = q.process(() => {});
      worker.on("completed", () => done++);
      await waitFor("three runs", () => done === 3);
      await worker.stop();
      const spans = summaries(tracer.exporter);
      const producers = byKind(spans, SpanKind.PRODUCER);
      assert.equal(producers.length, 1);
      assert.equal(producers[0]?.attributes["messaging.batch.message_count"], 3);
      const consumers = byKind(spans, SpanKind.CONSUMER);
      assert.equal(consumers.length, 3);
      for (const c of consumers) {
        assert.equal(c.parentSpanId, producers[0]?.spanId);
        assert.equal(c.status, SpanStatusCode.UNSET);
      }
    });

    test("a stored trace context that is not one never fails a job: it runs, untraced", T, async (t) => {
      const tracer = installTracer();
      t.after(() => tracer.close());
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("garbage-trace");
      const stored = [
        "null",
        '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":5}',
        "[]",
        "{",
        '"x"',
        "5",
      ];
      await spool.ctx.backend.enqueue(
        "garbage-trace",
        stored.map((trace, i) => ({ ...job(i), maxAttempts: 1, trace })),
      );
      const ran: unknown[] = [];
      const worker = q.process((j) => {
        ran.push(j.payload);
      });
      await waitFor("every job completed", async () => (await q.size()).completed === stored.length);
      await worker.stop();
      assert.equal(ran.length, stored.length);
      assert.equal((await q.size()).dead, 0);
    });

    test(
      "a run given up by its timeout ends its span with an error, though the handler never settles",
      T,
      async (t) => {
        const tracer = installTracer();
        t.after(() => tracer.close());
        const { spool } = await fresh(b, t);
        const q = spool.queue<number>("timed-out");
        await q.add(1, { maxAttempts: 1 });
        const worker = q.process(() => new Promise<never>(() => {}), { timeout: 50 });
        await new Promise<void>((resolve) => worker.once("failed", () => resolve()));
        await waitFor(
          "the consumer span ended",
          () => byKind(summaries(tracer.exporter), SpanKind.CONSUMER).length === 1,
        );
        await worker.stop({ timeout: 10 });
        const [consumer] = byKind(summaries(tracer.exporter), SpanKind.CONSUMER);
        assert.equal(consumer?.status, SpanStatusCode.ERROR);
      },
    );

    test("a tracer that throws once its span started costs no add, no job and no process", T, async (t) => {
      const real = installTracer();
      t.after(() => real.close());
      const tracer = real.provider.getTracer("broken");
      const broken = (span: object) =>
        new Proxy(span, {
          get(target, key) {
            if (["setStatus", "end", "setAttribute", "recordException"].includes(String(key))) {
              return () => {
                throw new Error(`tracer broke in ${String(key)}`);
              };
            }
            const value: unknown = Reflect.get(target, key);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      trace.disable();
      trace.setGlobalTracerProvider({
        getTracer: () => ({
          startSpan: (...args: Parameters<typeof tracer.startSpan>) => broken(tracer.startSpan(...args)),
          startActiveSpan: tracer.startActiveSpan.bind(tracer),
        }),
      } as never);
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("broken-tracer");
      const quick = await q.add("quick"); // resolves: the job is stored, whatever the span does
      const slow = await q.add("slow", { maxAttempts: 1 });
      assert.equal((await q.size()).pending, 2);
      const worker = q.process((job) => (job.payload === "slow" ? new Promise<never>(() => {}) : undefined), {
        timeout: 50,
      });
      await waitFor("both settled", async () => {
        const size = await q.size();
        return size.completed === 1 && size.dead === 1;
      });
      await worker.stop({ timeout: 10 });
      assert.equal((await q.get(quick))?.state, "completed");
      assert.match((await q.get(slow))?.lastError ?? "", /timeout/);
    });

    test("without a tracer provider nothing is stored with the job", T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.queue("plain").add(1);
      const [row] = await spool.ctx.backend.claim("plain", 1, 30_000);
      assert.ok(row);
      assert.equal(row.trace, undefined);
    });

    test("a worker in another process continues the producer's trace", {
      ...T,
      skip: !b.multiProcess,
    }, async (t) => {
      const tracer = installTracer();
      t.after(() => tracer.close());
      const { spool, target } = await fresh(b, t);
      const kid = child(t, "traced-work.ts", childTarget(target), "remote");
      await kid.waitLine(/^ready$/);
      await trace.getTracer("app").startActiveSpan("request", async (span) => {
        await spool.queue("remote").add({ to: "x" });
        span.end();
      });
      const line = await kid.waitLine(/^\[/);
      const remote = JSON.parse(line) as SpanSummary[];
      const [producer] = byKind(summaries(tracer.exporter), SpanKind.PRODUCER);
      const [consumer] = byKind(remote, SpanKind.CONSUMER);
      assert.ok(producer && consumer);
      assert.equal(consumer.traceId, producer.traceId, "the child's span is in this process's trace");
      assert.equal(consumer.parentSpanId, producer.spanId);
      assert.deepEqual(consumer.links, [`${producer.traceId}/${producer.spanId}`]);
    });
  });
}
