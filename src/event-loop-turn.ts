// One clock for the whole process: how long it has gone without letting the event loop turn.
// Workers run the user's handlers back to back; on SQLite a claim and a synchronous handler's
// outcome both come back as microtasks, so a worker's loop never reaches the timers by itself
// (1.5 ms handlers at concurrency 32 held the loop for seconds: the heartbeat could not renew,
// leases lapsed, jobs ran twice). The clock is shared, not per worker: with one each, every
// waiting worker started a round of its slots in the same turn (six workers of 32 slots held the
// loop 324 ms and lost leases of 500 ms).

/** How long (ms) the process may go on starting jobs before it lets the event loop turn. */
const TURN_MS = 10;

/** When the current turn began, as far as this module saw (a yield through nextTurn). */
let turnBegan = performance.now();
/** The one pending turn every worker that yields now waits for. */
let pending: Promise<void> | null = null;

/** Whether the process has gone TURN_MS without a turn: a worker then yields before starting more. */
export function turnOverdue(): boolean {
  return performance.now() - turnBegan >= TURN_MS;
}

/**
 * Resolves in the event loop's next turn, after the timers. Every caller of one turn waits for the
 * same one and starts it afresh; each checks turnOverdue again before it starts jobs, so the first
 * to resume uses the turn and the others, finding it spent, yield again.
 */
export function nextTurn(): Promise<void> {
  pending ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      pending = null;
      turnBegan = performance.now();
      resolve();
    }),
  );
  return pending;
}
