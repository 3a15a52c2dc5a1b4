// A worker's successful outcomes, held a moment before they are written: until its next claim
// or the end of the current turn of the event loop, whichever comes first. Written just before
// a claim, they join its transaction (SQLite's group commit): a claim's worth of quick jobs
// costs one commit, not one per burst of finished handlers plus one for the claim. The outcome
// is already decided when it is held; only its write waits, and by one turn at most.
export class HeldCompletions {
  private waiting: Array<() => void> = [];
  private scheduled = false;

  /** Holds `write`; the promise settles as the write's does, once it has been issued and done. */
  hold<T>(write: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      this.waiting.push(() => resolve(write()));
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.issue();
      });
    });
  }

  /** Issues every held write now, in the order they were held. */
  issue(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const write of waiting) write();
  }
}
