// An OpenTelemetry SDK for the tests: a BasicTracerProvider exporting to memory, registered
// globally with an async-hooks context manager, as an application's setup would.
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncHooksContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

export interface Tracer {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  /** Unregisters everything (the API's globals back to no-ops). */
  close(): Promise<void>;
}

export function installTracer(): Tracer {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncHooksContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    provider,
    async close() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** What the tests compare of a finished span (also what a child process prints of its spans). */
export interface SpanSummary {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  links: string[];
  attributes: Record<string, unknown>;
  status: number;
}

export function summaries(exporter: InMemorySpanExporter): SpanSummary[] {
  return exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    links: s.links.map((l) => `${l.context.traceId}/${l.context.spanId}`),
    attributes: { ...s.attributes },
    status: s.status.code,
  }));
}
