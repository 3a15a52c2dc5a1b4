// Where a worker's errors go: its "error" listeners, or a process warning when it has none or a
// listener throws (a throw must never reach the worker's loop).
import { show } from "./errors.js";
import { logError, type SpoolLogger } from "./metrics/logger.js";

interface ErrorEmitter {
  listenerCount(event: "error"): number;
  emit(event: "error", error: unknown): boolean;
}

/**
 * Emits `error` to the "error" listeners; a warning when there are none or when they throw.
 * Logged too, with the queue and, when known, the job and its attempt.
 */
export function reportError(
  emitter: ErrorEmitter,
  queue: string,
  error: unknown,
  logger?: SpoolLogger,
  job?: { id: number; attempts: number },
): void {
  if (logger !== undefined) {
    const context = job === undefined ? { queue } : { queue, jobId: job.id, attempt: job.attempts };
    const lost = (error as { code?: unknown } | null)?.code === "LEASE_LOST";
    logError(
      logger,
      lost ? "warn" : "error",
      lost ? "spool job lease lost" : "spool worker error",
      error,
      context,
    );
  }
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
