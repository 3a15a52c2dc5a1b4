/*
 * SIGINT/SIGTERM for a command that finishes what is in flight before it stops (`spool import`
 * commits the lines it has read). The first signal says so at once, since the commit may take a
 * while; a second one stops at once, after printing what is known (how to resume), with the
 * status of the signal (130 or 143) rather than Node's silent default.
 */
import { EXIT_SIGINT, EXIT_SIGTERM, scrub } from "./errors.js";

export interface Interrupt {
  /** The first signal received, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Stops listening (the command is done). */
  off(): void;
}

/**
 * Listens for SIGINT and SIGTERM. On the first: writes `first(signal)` and calls `onFirst`. On
 * the second: writes `second(signal)` and exits.
 */
export function onInterrupt(options: {
  onFirst: () => void;
  first: (signal: NodeJS.Signals) => string;
  second: (signal: NodeJS.Signals) => string;
}): Interrupt {
  let first: NodeJS.Signals | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (first === null) {
      first = signal;
      process.stderr.write(scrub(`spool: ${options.first(signal)}\n`));
      options.onFirst();
      return;
    }
    process.stderr.write(scrub(`spool: ${options.second(signal)}\n`));
    process.exit(signal === "SIGTERM" ? EXIT_SIGTERM : EXIT_SIGINT);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    get signal() {
      return first;
    },
    off() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
