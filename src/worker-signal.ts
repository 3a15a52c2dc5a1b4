// A handler's abort signal, made only when the handler reads it or the job is aborted. Most
// handlers never read it and most jobs are never aborted, and an AbortController per job
// measured about 5% of a drain of quick jobs. A handler that reads it after an abort finds it
// aborted with that reason: AbortController keeps the first reason, as a signal must.
import type { HandlerContext } from "./worker-options.js";

export class LazyAbort {
  private controller: AbortController | null = null;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}

/**
 * A handler's context: its lazy signal, `extend` for its lease, `progress` and `results`.
 *
 * `signal` is an own, enumerable property (a spread copy carries it), read through the job's
 * LazyAbort and still a handler's to replace (`ctx.signal = AbortSignal.any(…)`), as when it was
 * a plain property. Every context shares one descriptor for it: written as an object literal's
 * own getter and setter, each job made two closures and an object V8 could not give a shared
 * shape, and a drain of 20,000 quick jobs at concurrency 16 ran at 35–37k jobs/s with a 104 MB
 * peak RSS (V8's young generation grew to 34 MB) against 48–53k/s and 77–79 MB this way.
 */
class JobContext implements HandlerContext {
  readonly #abort: LazyAbort;
  declare signal: AbortSignal;
  declare readonly extend: HandlerContext["extend"];
  declare readonly progress: HandlerContext["progress"];
  declare readonly results: HandlerContext["results"];

  constructor(
    abort: LazyAbort,
    extend: HandlerContext["extend"],
    progress: HandlerContext["progress"],
    results: HandlerContext["results"],
  ) {
    this.#abort = abort;
    Object.defineProperty(this, "signal", SIGNAL);
    this.extend = extend;
    this.progress = progress;
    this.results = results;
  }

  static signalOf(context: JobContext): AbortSignal {
    return context.#abort.signal;
  }
}

const SIGNAL: PropertyDescriptor = {
  get(this: JobContext): AbortSignal {
    return JobContext.signalOf(this);
  },
  set(this: JobContext, value: AbortSignal): void {
    Object.defineProperty(this, "signal", { value, writable: true, enumerable: true, configurable: true });
  },
  enumerable: true,
  configurable: true,
};

export function handlerContext(
  controller: LazyAbort,
  extend: HandlerContext["extend"],
  progress: HandlerContext["progress"],
  results: HandlerContext["results"],
): HandlerContext {
  return new JobContext(controller, extend, progress, results);
}
