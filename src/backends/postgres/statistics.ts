/*
 * The claim's plan comes from the jobs table's statistics. A table that has never been analyzed
 * (a new schema; autovacuum's first pass can be a minute away) has none, and on PostgreSQL's
 * default estimates the claim reads every pending row through the due-time index and sorts
 * them, on every claim: 100 ms at 100,000 deep (EXPLAIN ANALYZE), where the ready index in
 * claim order reads only the rows it returns. So once this process has added a batch's worth of
 * jobs to a table without statistics, it analyzes the table itself, once, in the background.
 * ANALYZE only samples rows and takes no lock that blocks reads or writes of jobs.
 */
import type { Connections } from "./pool.js";

/** Jobs added by this process before it looks: fewer rows sort in well under a millisecond. */
const ADDED_BEFORE_CHECK = 1000;

export class FirstAnalyze {
  private added = 0;
  private done = false;

  constructor(
    private readonly db: Connections,
    private readonly schema: string,
  ) {}

  /** `n` jobs were added; past the threshold, the one check (and ANALYZE) runs unawaited. */
  noteAdded(n: number): void {
    if (this.done) return;
    this.added += n;
    if (this.added < ADDED_BEFORE_CHECK) return;
    this.done = true;
    // A failure (a role that may not analyze the table, a closing pool) costs only the plan.
    this.analyzeIfNeeded().catch(() => {});
  }

  private async analyzeIfNeeded(): Promise<void> {
    if (this.db.isClosed) return;
    const doing = "analyzing the jobs table";
    try {
      const [row] = await this.db.run("JOBS_HAVE_STATISTICS", [this.schema], doing);
      if (row?.known !== true) await this.db.run("ANALYZE_JOBS", [], doing);
    } finally {
      // The statistics may now let the planned-once functions keep their plans (planned-once.ts).
      await this.db.lookIfPlansKept();
    }
  }
}
