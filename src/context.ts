// What every Queue, Worker and Channel of one Spool shares: the backend, the in-process wake-up
// emitter, the open/closed state and the registry of running workers.
import { EventEmitter } from "node:events";
import type { Backend } from "./backend.js";
import { SpoolError } from "./errors.js";
import { QueueLimitsView } from "./limits.js";
import { Instruments } from "./metrics/instruments.js";
import { SettingsCache } from "./settings.js";

/** Something close() must stop first (workers, waiting senders). */
export interface Stoppable {
  stop(options?: { timeout?: number }): Promise<void>;
}

export class SpoolContext {
  readonly backend: Backend;
  readonly maxPayloadBytes: number;
  readonly stoppables = new Set<Stoppable>();
  /** The stored queue settings (retention…) as this Spool sees them. */
  readonly settings: SettingsCache;
  /** The queues' limits as this Spool states and sees them. */
  readonly limits: QueueLimitsView;
  /** This process's counters, timings, logger and tracing (src/metrics/). */
  readonly instruments = new Instruments();
  private readonly wakeups = new EventEmitter();
  /** Pause and resume of a queue, for the workers that must look at its pause again. */
  private readonly controls = new EventEmitter();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(backend: Backend, maxPayloadBytes: number) {
    this.backend = backend;
    this.maxPayloadBytes = maxPayloadBytes;
    this.settings = new SettingsCache(backend);
    this.limits = new QueueLimitsView(backend);
    // Every worker and waiting sender of a busy process listens here.
    this.wakeups.setMaxListeners(0);
    this.controls.setMaxListeners(0);
    this.unsubscribe = backend.notifier.subscribe((queue) => {
      if (queue === null) this.wakeups.emit("*");
      else this.wakeups.emit(queue);
      // Another process's signal cannot say whether it paused the queue: it may have.
      this.controls.emit(queue ?? "*");
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws CLOSED once the Spool is closed: every public call starts here. */
  assertOpen(): void {
    if (this.closed) throw new SpoolError("CLOSED", "this Spool is closed: open it again to use it");
  }

  /** Tells this process's waiters, and other processes where needed, that `queue` changed. */
  signal(queue: string): void {
    this.wakeups.emit(queue);
    this.backend.notifier.announce(queue);
  }

  /** Calls `listener` whenever `queue` (or any queue, from another process) may have changed. */
  onChange(queue: string, listener: () => void): () => void {
    this.wakeups.on(queue, listener);
    this.wakeups.on("*", listener);
    return () => {
      this.wakeups.off(queue, listener);
      this.wakeups.off("*", listener);
    };
  }

  /**
   * `queue` was paused (or resumed) here, committed: its workers here act on it at once, with no
   * read; idle ones everywhere wake.
   */
  controlled(queue: string, paused: boolean): void {
    this.controls.emit(queue, paused);
    this.signal(queue);
  }

  /**
   * Calls `listener` when `queue` may have been paused or resumed: by this process, or by another
   * (any signal from another process, which cannot tell a pause from an add).
   */
  onControl(queue: string, listener: (paused?: boolean) => void): () => void {
    this.controls.on(queue, listener);
    this.controls.on("*", listener);
    return () => {
      this.controls.off(queue, listener);
      this.controls.off("*", listener);
    };
  }

  markClosed(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.unsubscribe();
    return true;
  }
}
