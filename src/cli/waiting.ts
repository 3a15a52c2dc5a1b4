/*
 * What the command is waiting on, for the one failure Node reports with nothing but exit code
 * 13: the event loop ran empty while a promise the command awaits can never settle (a worker
 * module whose top-level await never finishes, a stream nobody will end). main.ts watches for
 * that and names the wait instead of exiting silently.
 */
let waitingOn = "running the command";

/** Records what the command is about to wait on; returns a function that restores the previous. */
export function waitingFor(what: string): () => void {
  const before = waitingOn;
  waitingOn = what;
  return () => {
    waitingOn = before;
  };
}

export function currentWait(): string {
  return waitingOn;
}
