// A handler's abort signal, made only when the handler reads it or the job is aborted. Most
// handlers never read it and most jobs are never aborted, and an AbortController per job
// measured about 5% of a drain of quick jobs. A handler that reads it after an abort finds it
// aborted with that reason: AbortController keeps the first reason, as a signal must.
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
