/**
 * A source of the current time in ms since the epoch. The SQLite backend measures leases and
 * run times on one; `Spool.open`'s internal `clock` option (see open.ts) replaces it so tests
 * can move time. The core's own timers and paces stay on the process clock.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
