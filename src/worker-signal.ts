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

/** Where a context keeps its job's LazyAbort: a symbol, so a copy, a Proxy or a child reads it. */
const ABORT = Symbol("spool.abort");

type Context = HandlerContext & { [ABORT]: LazyAbort };

/**
 * `signal` on every context: read through the job's LazyAbort, and still a handler's to replace
 * (`ctx.signal = AbortSignal.any(…)`), as when it was a plain property. One descriptor for
 * all: written as an object literal's own getter and setter, each job made two closures and an
 * object V8 gave a shape of its own, and a drain of 20,000 quick jobs at concurrency 16 ran at
 * 35–37k jobs/s with a 104 MB peak RSS (V8's young generation grew to 34 MB) against 48–53k/s and
 * 77–79 MB this way. `this` is whatever the property was read through: the context itself, a
 * Proxy of it or an object made from it, each of which finds the LazyAbort under ABORT.
 */
const SIGNAL: PropertyDescriptor = {
  get(this: Context): AbortSignal {
    return this[ABORT].signal;
  },
  set(this: Context, value: AbortSignal): void {
    Object.defineProperty(this, "signal", { value, writable: true, enumerable: true, configurable: true });
  },
  enumerable: true,
  configurable: true,
};

/**
 * A handler's context: its lazy signal, `extend` for its lease, `progress` and `results`. A plain
 * object, as it always was: its four members are own enumerable properties, and the LazyAbort
 * is kept where neither a spread, Object.keys nor JSON sees it.
 */
export function handlerContext(
  controller: LazyAbort,
  extend: HandlerContext["extend"],
  progress: HandlerContext["progress"],
  results: HandlerContext["results"],
): HandlerContext {
  const context = Object.defineProperty({}, "signal", SIGNAL) as Context;
  context.extend = extend;
  context.progress = progress;
  context.results = results;
  Object.defineProperty(context, ABORT, { value: controller });
  return context;
}
