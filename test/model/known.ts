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
export const KNOWN_OPEN: ReadonlySet<string> = new Set<string>([
  // Every defect the model was gated on (issue 11: 1, 2, 3, 4, 6, 17; found here: N1–N6) is
  // fixed, with a regression test each (trust-core, lease-token, model/regressions). A new one
  // found by the model gets an entry here and a `todo` test until it is fixed.
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
