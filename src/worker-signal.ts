// A handler's abort signal, made only when the handler reads it. Most handlers never do, and an
// AbortController per job measured about 5% of a drain of quick jobs. Aborting before the signal
// exists is remembered, so a handler that reads it late finds it aborted with the same reason.
export class LazyAbort {
  private controller: AbortController | null = null;
  private aborted = false;
  private reason: unknown;

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Like AbortController.abort: the first reason stays, later calls change nothing. */
  abort(reason: unknown): void {
    if (this.controller !== null) {
      this.controller.abort(reason);
      return;
    }
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
  }
}
