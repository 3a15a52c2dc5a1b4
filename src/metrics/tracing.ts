// OpenTelemetry traces through @opentelemetry/api, an optional peer loaded once at open: without
// it, nothing here runs. A PRODUCER span per add (one for a whole addBatch) whose context is
// stored with its jobs when the span is sampled (the W3C trace context, as the API's propagator
// writes it, or as traceparent/tracestate when none is registered); a CONSUMER span per handler
// run, parented on that stored context and linked to it (the messaging semantic conventions'
// single-message processing), with the messaging attributes.
import type * as OtelApi from "@opentelemetry/api";
import { show } from "../errors.js";
import { redactText } from "../redact.js";

type Api = typeof OtelApi;
type Carrier = Record<string, string>;

/** What a consumer span needs of the job run. */
export interface TracedRow {
  id: number;
  queue: string;
  attempts: number;
  trace?: string;
}

let loading: Promise<Tracing | null> | null = null;

/** The tracing of this process: null when @opentelemetry/api is not installed. */
export function loadTracing(): Promise<Tracing | null> {
  loading ??= import("@opentelemetry/api").then(
    (api) => {
      try {
        return new Tracing(api);
      } catch {
        return null; // An API that does not look like @opentelemetry/api: no tracing, no failure.
      }
    },
    () => null,
  );
  return loading;
}

export class Tracing {
  private readonly api: Api;
  /** The API's own no-op provider: what a proxy delegates to while no SDK is registered. */
  private readonly noop: unknown;

  /** `api`: the @opentelemetry/api module (typed loosely: the published types must not need it). */
  constructor(api: object) {
    this.api = api as Api;
    this.noop = new this.api.ProxyTracerProvider().getDelegate();
  }

  /**
   * Whether a tracer provider is registered. Asked on every add and run, so one registered
   * after open counts; without one, nothing is wrapped (no span, no closure, no promise).
   */
  get enabled(): boolean {
    const provider = this.api.trace.getTracerProvider();
    return !(provider instanceof this.api.ProxyTracerProvider) || provider.getDelegate() !== this.noop;
  }

  private get tracer(): OtelApi.Tracer {
    // Asked each time: a provider registered after open still gets the spans.
    return this.api.trace.getTracer("spool");
  }

  /**
   * Adds `jobs` inside a PRODUCER span: each job carries the span's context when it is sampled.
   * Resolves with what `insert` resolves with.
   */
  async send<J extends { trace?: string | null }>(
    queue: string,
    jobs: J[],
    insert: () => Promise<number[] | null>,
  ): Promise<number[] | null> {
    const span = this.startSend(queue, jobs);
    if (span === null) return insert();
    let ids: number[] | null;
    try {
      ids = await insert();
    } catch (error) {
      this.endSend(span, null, { error });
      throw error;
    }
    this.endSend(span, ids);
    return ids;
  }

  /** `send` for an add that is done when `insert` returns (addSync). */
  sendSync<J extends { trace?: string | null }>(
    queue: string,
    jobs: J[],
    insert: () => number[] | null,
  ): number[] | null {
    const span = this.startSend(queue, jobs);
    if (span === null) return insert();
    let ids: number[] | null;
    try {
      ids = insert();
    } catch (error) {
      this.endSend(span, null, { error });
      throw error;
    }
    this.endSend(span, ids);
    return ids;
  }

  /**
   * Opens the PRODUCER span of an add and has the jobs carry its context when it is sampled;
   * null when the tracer threw: the add must not pay for it, so it goes in untraced.
   */
  private startSend(queue: string, jobs: { trace?: string | null }[]): OtelApi.Span | null {
    const { api } = this;
    try {
      const attributes: OtelApi.Attributes = {
        "messaging.system": "spool",
        "messaging.destination.name": queue,
        "messaging.operation.type": "send",
        "messaging.operation.name": jobs.length === 1 ? "add" : "addBatch",
      };
      if (jobs.length > 1) attributes["messaging.batch.message_count"] = jobs.length;
      const span = this.tracer.startSpan(`send ${queue}`, { kind: api.SpanKind.PRODUCER, attributes });
      const sampled = (span.spanContext().traceFlags & api.TraceFlags.SAMPLED) !== 0;
      if (api.isSpanContextValid(span.spanContext()) && sampled) {
        const trace = this.carry(span);
        for (const job of jobs) job.trace = trace;
      }
      return span;
    } catch {
      for (const job of jobs) delete job.trace;
      return null;
    }
  }

  /**
   * Ends an add's span: with the error when the add failed. After a commit nothing may throw
   * (the caller would add again what is already stored), so nothing the tracer does escapes.
   */
  private endSend(span: OtelApi.Span, ids: number[] | null, failure?: { error: unknown }): void {
    if (failure !== undefined) safely(() => this.failed(span, failure.error));
    else
      safely(() => {
        if (ids !== null && ids.length === 1) span.setAttribute("messaging.message.id", String(ids[0]));
      });
    safely(() => span.end());
  }

  /** Runs a handler inside a CONSUMER span parented on (and linked to) its producer's context. */
  process<J, C>(handler: (job: J, context: C) => unknown, job: J, context: C, row: TracedRow): unknown {
    let span: OtelApi.Span;
    let parent: OtelApi.Context;
    try {
      [span, parent] = this.consumerSpan(row);
    } catch {
      // Whatever the stored context or the tracer does, the job runs: tracing never fails a job.
      return handler(job, context);
    }
    // Unsampled, or no tracer provider registered (the API's no-op): the handler runs as it is.
    let recording = false;
    safely(() => {
      recording = span.isRecording();
    });
    if (!recording) return handler(job, context);
    const { api } = this;
    // The span ends once: when the handler settles, or when the run is given up first (a
    // timeout, a stop, a lost lease abort its signal), with an error status, even if the handler
    // never settles. Nothing the tracer throws reaches the job or the signal's listeners.
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) safely(() => this.failed(span, error));
      safely(() => span.end());
    };
    const signal = (context as { signal?: unknown } | null)?.signal;
    if (signal instanceof AbortSignal) {
      if (signal.aborted) end(signal.reason ?? new Error("aborted"));
      else signal.addEventListener("abort", () => end(signal.reason ?? new Error("aborted")), { once: true });
    }
    // The handler runs exactly once: inside the span's context, or, when the tracer fails before
    // calling it, as it is.
    let called = false;
    let threw = false;
    let thrown: unknown;
    let result: unknown;
    const run = () => {
      called = true;
      try {
        result = handler(job, context);
      } catch (error) {
        threw = true;
        thrown = error;
      }
    };
    try {
      api.context.with(api.trace.setSpan(parent, span), run);
    } catch {
      // The tracer's own failure: the handler's are caught in run.
    }
    if (!called) {
      end();
      return handler(job, context);
    }
    if (threw) {
      end(thrown);
      throw thrown;
    }
    return Promise.resolve(result).then(
      (value) => {
        end();
        return value;
      },
      (error: unknown) => {
        end(error);
        throw error;
      },
    );
  }

  /** A run's CONSUMER span and its parent context (the producer's, when it was stored). */
  private consumerSpan(row: TracedRow): [OtelApi.Span, OtelApi.Context] {
    const { api } = this;
    const producer = row.trace === undefined ? null : this.extract(row.trace);
    const parent =
      producer === null ? api.context.active() : api.trace.setSpanContext(api.context.active(), producer);
    const span = this.tracer.startSpan(
      `process ${row.queue}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "spool",
          "messaging.destination.name": row.queue,
          "messaging.operation.type": "process",
          "messaging.operation.name": "process",
          "messaging.message.id": String(row.id),
          "messaging.message.delivery_count": row.attempts,
        },
        links: producer === null ? [] : [{ context: producer }],
      },
      parent,
    );
    return [span, parent];
  }

  private failed(span: OtelApi.Span, error: unknown): void {
    span.setStatus({
      code: this.api.SpanStatusCode.ERROR,
      message: redactText(error instanceof Error ? error.message : show(error)),
    });
    if (error instanceof Error) span.recordException(error);
  }

  /** The span's context as stored with its jobs: the propagator's carrier, as JSON. */
  private carry(span: OtelApi.Span): string {
    const { api } = this;
    const carrier: Carrier = {};
    api.propagation.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), carrier);
    if (carrier.traceparent === undefined) {
      // No propagator registered (the API's default does nothing): W3C trace context by hand.
      const sc = span.spanContext();
      carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
      const state = sc.traceState?.serialize();
      if (state) carrier.tracestate = state;
    }
    return JSON.stringify(carrier);
  }

  /** The producer's span context from what was stored, or null when it does not parse. */
  private extract(stored: string): OtelApi.SpanContext | null {
    const { api } = this;
    // Written by any producer, or by hand: only an object of strings is a carrier.
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored);
    } catch {
      return null;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    const carrier: Carrier = {};
    for (const key of ["traceparent", "tracestate"]) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === "string") carrier[key] = value;
    }
    const viaPropagator = api.trace.getSpanContext(api.propagation.extract(api.ROOT_CONTEXT, carrier));
    if (viaPropagator !== undefined && api.isSpanContextValid(viaPropagator)) return viaPropagator;
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent ?? "");
    if (match === null) return null;
    const context: OtelApi.SpanContext = {
      traceId: match[1] as string,
      spanId: match[2] as string,
      traceFlags: Number.parseInt(match[3] as string, 16),
      isRemote: true,
    };
    if (carrier.tracestate) context.traceState = api.createTraceState(carrier.tracestate);
    return api.isSpanContextValid(context) ? context : null;
  }
}

/** Runs `f`, ignoring what it throws: a tracer's failure never reaches the job it traces. */
function safely(f: () => void): void {
  try {
    f();
  } catch {
    // Tracing is an observer: it may lose a span, never a job.
  }
}
