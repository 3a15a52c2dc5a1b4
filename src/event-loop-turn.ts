// One clock for the whole process: how long it has gone without letting the event loop turn.
// Workers run the user's handlers back to back; on SQLite a claim and a synchronous handler's
// outcome both come back as microtasks, so a worker's loop never reaches the timers by itself
// (1.5 ms handlers at concurrency 32 held the loop for seconds: the heartbeat could not renew,
// leases lapsed, jobs ran twice). The clock is shared, not per worker: with one each, every
// waiting worker started a round of its slots in the same turn (six workers of 32 slots held the
// loop 324 ms and lost leases of 500 ms).

/** How long (ms) the process may go on starting jobs before it lets the event loop turn. */
const TURN_MS = 10;

/**
 * When this turn's first check came (performance.now()). The clock starts at the first check of
 * a turn, not at the last yield: after an idle wait, a job claimed in a fresh turn starts at once
 * (a clock left running since the last yield made every start after a wait give up its turn).
 */
let turnBegan = 0;
/** Set from a turn's first check until the turn ends (its setImmediate has run). */
let marker: NodeJS.Immediate | null = null;
/** The one pending turn every worker that yields now waits for. */
let pending: Promise<void> | null = null;

/** Whether this turn has gone TURN_MS since its first check: a worker then yields before starting more. */
export function turnOverdue(): boolean {
  const now = performance.now();
  if (marker === null) {
    turnBegan = now;
    marker = setImmediate(() => {
      marker = null;
    });
    return false;
  }
  return now - turnBegan >= TURN_MS;
}

/**
 * Resolves in a later turn of the event loop, once its timers (the heartbeats) have run. Every
 * caller of one turn waits for the same one; each checks turnOverdue again once it resumes, so
 * the first to resume uses the new turn and the others, finding it spent, yield again.
 *
 * Two immediates, not one: a turn that began in the timers or poll phase (a worker woken by its
 * sleep's timer, a claim's I/O) would run one immediate in the same check phase as the turn's
 * marker, so the worker resumed in a "fresh" turn and started a second round before any timer
 * ran (hostile review: rounds of 128 slots back to back, 1.3 s without a heartbeat). The second
 * immediate runs in the next loop iteration, after its timers.
 */
export function nextTurn(): Promise<void> {
  pending ??= new Promise<void>((resolve) =>
    setImmediate(() =>
      setImmediate(() => {
        pending = null;
        resolve();
      }),
    ),
  );
  return pending;
}
