/*
 * Defects known and being fixed elsewhere (issue 11). The model encodes the contract, the FIXED
 * behaviour; each entry here only switches off the generator values or commands that would hit
 * that defect, so the suite stays green until the fix merges. Remove an entry once its fix is
 * on the branch: the model then checks that case too.
 *
 * Numbers are the issue's; "N…" entries are defects this model found (see regressions.test.ts).
 * The other defects (5 and 7–12: workers; 13–16, 18, 19: processes, timing, servers) lie
 * outside what the model runs (one process, no workers), so they need no entry here.
 * SPOOL_MODEL_KNOWN overrides the list for one run (e.g. SPOOL_MODEL_KNOWN="" to see them all).
 */
export const KNOWN_OPEN: ReadonlySet<string> = new Set([
  // 1: fractional durations (delay 1.5, ttl 2.5, lease 2.5, extend, retryIn) reject with STORAGE.
  "1",
  // 2: a Buffer payload is stored by reference until the group commit: mutating it after the
  //    call changes what is stored.
  "2",
  // 3: after retry(), a stale holder at the same attempt number completes someone else's attempt.
  "3",
  // 4: a job past its ttl shows pending and keeps its dedupe key until a claim reaches it (so
  //    retry() and purge() do not see it dead yet either).
  "4",
  // 6: a queue's function backoff overrides the job's own stored backoff.
  "6",
  // 17: NUL in an error text or key fails with STORAGE on PostgreSQL.
  "17",
  // N1 (new): a job whose lease lapsed on its last attempt is not dead until a claim rescues it:
  //    it keeps its dedupe key, and retry() and purge() do not see it.
  "N1",
  // N2 (new): a channel receive refused for an undecodable item restores the batch's good items
  //    without their lastError and ttl.
  "N2",
  // N3 (new): sendBatch([]) resolves on a closed Spool instead of rejecting with CLOSED.
  "N3",
  // N4 (new): addBatch([], options) resolves with [] whatever the options, never INVALID_ARGUMENT.
  "N4",
  // N5 (new, SQLite): a channel receive that buries a job (past its ttl, or undecodable) drops its
  //    key (a reserve keeps it): retried, that job no longer holds its key and get() shows none.
  "N5",
  // N6 (new, SQLite): a channel receive buries a job that already started once (attempts 1) as
  //    "expired" when its ttl deadline has passed: the take path does not count the attempt.
  "N6",
]);

/** SPOOL_MODEL_KNOWN="1,3" (or "") overrides the list: to see which defects still show. */
const override = process.env.SPOOL_MODEL_KNOWN;
const active: ReadonlySet<string> =
  override === undefined
    ? KNOWN_OPEN
    : new Set(
        override
          .split(",")
          .map((d) => d.trim())
          .filter((d) => d !== ""),
      );

export const isOpen = (defect: string): boolean => active.has(defect);
export const activeKnown = (): string[] => [...active];
