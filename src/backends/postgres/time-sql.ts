// Times in the PostgreSQL statements: ms numbers as timestamptz, always on the database's clock.

/** A ms-since-epoch number as a timestamptz, exactly (no float seconds on the way). */
export const fromMs = (param: string) => `('epoch'::timestamptz + ${param} * interval '1 millisecond')`;
export const after = (param: string) => `(now() + ${param} * interval '1 millisecond')`;
/**
 * `param` ms before now. Capped at 10^14 ms (about 3 170 years, more than any job has been
 * finished): a longer age would reach before 4713 BC, where timestamps end, and fail.
 */
export const ago = (param: string) => `(now() - least(${param}, 1e14) * interval '1 millisecond')`;
