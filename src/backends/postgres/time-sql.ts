// Times in the PostgreSQL statements: ms numbers as timestamptz, always on the database's clock.

/** A ms-since-epoch number as a timestamptz, exactly (no float seconds on the way). */
export const fromMs = (param: string) => `('epoch'::timestamptz + ${param} * interval '1 millisecond')`;
export const after = (param: string) => `(now() + ${param} * interval '1 millisecond')`;
/**
 * `param` ms before now. Capped at 10^14 ms (about 3 170 years, more than any job has been
 * finished): a longer age would reach before 4713 BC, where timestamps end, and fail.
 */
export const ago = (param: string) => `(now() - least(${param}, 1e14) * interval '1 millisecond')`;
/**
 * `expr` to the whole millisecond, for every run_at written (and the completion time a
 * dependent's run_at is taken from). Claim order is priority, then runAt, then id, and runAt is a
 * millisecond Date: kept to the microsecond, a job retried later in the millisecond another was
 * added in was claimed after it though its id is lower (SQLite, which keeps milliseconds, claimed
 * it first). Found by the randomized model test.
 */
export const toWholeMs = (expr: string) => `date_trunc('milliseconds', ${expr})`;
/**
 * `param` (whole ms, ≥ 0) after now as a run_at, to the whole millisecond (toWholeMs): rounded
 * up when `param` > 0, so a delay or a retry is never shorter than asked (rounded down, a delay
 * of 3 ms made a job due 2.4 ms after its add), and down when 0, so a job added now is ready now.
 */
export const runAtAfter = (param: string) =>
  toWholeMs(
    `${after(param)} + CASE WHEN ${param} > 0 THEN interval '999 microseconds' ELSE interval '0' END`,
  );
