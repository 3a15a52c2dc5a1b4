/*
 * Progress for long commands. On a terminal it is a live cli-progress bar on stderr, so stdout
 * stays clean for data (export writes NDJSON there). Off a terminal the bar would only litter
 * logs with control codes: commands either stay silent or, where progress is the point (the
 * demo), print a plain line every few seconds.
 */
import { Presets, SingleBar } from "cli-progress";

export interface Progress {
  /** Sets the current value and any named fields the format shows. */
  update(value: number, fields?: Record<string, string | number>): void;
  /** Raises the total when it was unknown or grows (import from a pipe). */
  setTotal(total: number): void;
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  /** cli-progress format, e.g. "{bar} {value}/{total} | {rate} jobs/s". */
  format: string;
  /** Fields the format names, with their starting values. */
  fields?: Record<string, string | number>;
  /** A plain line to print every `plainEveryMs` when stderr is no terminal; silent when absent. */
  plainLine?: (value: number, total: number, fields: Record<string, string | number>) => string;
  plainEveryMs?: number;
  /** Where plain lines go. @default process.stderr */
  plainStream?: NodeJS.WritableStream;
}

const silent: Progress = { update() {}, setTotal() {}, stop() {} };

export function startProgress(options: ProgressOptions): Progress {
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      { format: options.format, stream: process.stderr, hideCursor: true, fps: 10, etaBuffer: 50 },
      Presets.shades_classic,
    );
    bar.start(options.total, 0, options.fields ?? {});
    return {
      update: (value, fields) => bar.update(value, fields ?? {}),
      setTotal: (total) => bar.setTotal(total),
      stop: () => bar.stop(),
    };
  }
  const plainLine = options.plainLine;
  if (!plainLine) return silent;
  const stream = options.plainStream ?? process.stderr;
  let value = 0;
  let total = options.total;
  let fields: Record<string, string | number> = { ...options.fields };
  const timer = setInterval(
    () => stream.write(`${plainLine(value, total, fields)}\n`),
    options.plainEveryMs ?? 2000,
  );
  timer.unref();
  return {
    update(v, f) {
      value = v;
      if (f) fields = { ...fields, ...f };
    },
    setTotal(t) {
      total = t;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
