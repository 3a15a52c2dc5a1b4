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

/** A handler's context: its lazy signal, `extend` for its lease, `progress` and `results`. */
export function handlerContext(
  controller: LazyAbort,
  extend: HandlerContext["extend"],
  progress: HandlerContext["progress"],
  results: HandlerContext["results"],
): HandlerContext {
  return {
    get signal() {
      return controller.signal;
    },
    // Made on first read, yet still a handler's to replace (`ctx.signal = AbortSignal.any(…)`),
    // as when it was a plain property.
    set signal(value: AbortSignal) {
      Object.defineProperty(this, "signal", {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    },
    extend,
    progress,
    results,
  };
}
