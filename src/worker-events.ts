// Where a worker's errors go: its "error" listeners, or a process warning when it has none or a
// listener throws (a throw must never reach the worker's loop).
import { show } from "./errors.js";

interface ErrorEmitter {
  listenerCount(event: "error"): number;
  emit(event: "error", error: unknown): boolean;
}

/** Emits `error` to the "error" listeners; a warning when there are none or when they throw. */
export function reportError(emitter: ErrorEmitter, queue: string, error: unknown): void {
  if (emitter.listenerCount("error") > 0) {
    try {
      emitter.emit("error", error);
      return;
    } catch (thrown) {
      error = thrown;
    }
  }
  process.emitWarning(`spool worker on "${queue}": ${(error as Error)?.message ?? show(error)}`);
}

/** Runs `emit`; a listener's throw goes to `report` instead of to the caller. */
export function emitSafely(emit: () => void, report: (error: unknown) => void): void {
  try {
    emit();
  } catch (error) {
    report(error);
  }
}
