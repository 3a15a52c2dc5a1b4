/**
 * A source of the current time in ms since the epoch. The SQLite backend measures leases and
 * run times on one; `Spool.open`'s internal `clock` option (see open.ts) replaces it so tests
 * can move time. The core's own timers and paces stay on the process clock.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Node's timers take at most 2^31−1 ms; a longer one would fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
