// A compact latency histogram: fixed log-scale buckets (8 per doubling, ~9 % wide) over
// 1/128 ms to ~100 days, plus one for zero. Bounded memory (one Float64Array), O(1) per
// observation, percentiles read from the buckets (each reported at its geometric middle,
// clamped to the smallest and largest value seen).

/** Buckets per doubling. */
const PER_OCTAVE = 8;
/** The smallest value with its own bucket: 2^-7 ms. */
const MIN_EXP = -7;
/** The largest: 2^33 ms (~100 days); anything longer joins the last bucket. */
const MAX_EXP = 33;
const BUCKETS = (MAX_EXP - MIN_EXP) * PER_OCTAVE + 1;

export interface Percentiles {
  /** ms; null when nothing was observed. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export class LatencyHistogram {
  /** Made on the first observation: a queue handle that never sees a job costs no buckets. */
  private buckets: Float64Array | null = null;
  count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  /** Records one value in ms (negative values, from clock skew, count as 0). */
  observe(ms: number): void {
    const v = Math.max(ms, 0);
    const i = bucketOf(v);
    this.buckets ??= new Float64Array(BUCKETS);
    this.buckets[i] = (this.buckets[i] as number) + 1;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds every observation of `other` to this one. */
  merge(other: LatencyHistogram): void {
    if (other.buckets === null) return;
    this.buckets ??= new Float64Array(BUCKETS);
    for (let i = 0; i < BUCKETS; i++)
      this.buckets[i] = (this.buckets[i] as number) + (other.buckets[i] as number);
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** The value below which `q` (0–1) of the observations fall, in ms; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0 || this.buckets === null) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank >= this.count) return this.max; // the largest value is known exactly
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i] as number;
      // The last bucket also holds everything past its range: the largest value stands for it.
      if (seen >= rank)
        return i === BUCKETS - 1 ? this.max : Math.min(this.max, Math.max(this.min, middleOf(i)));
    }
    return this.max;
  }

  percentiles(): Percentiles {
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99) };
  }
}

function bucketOf(ms: number): number {
  if (ms < 2 ** MIN_EXP) return 0;
  const i = Math.floor((Math.log2(ms) - MIN_EXP) * PER_OCTAVE) + 1;
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** The geometric middle of bucket `i` (0 for the zero bucket). */
function middleOf(i: number): number {
  if (i === 0) return 0;
  return 2 ** (MIN_EXP + (i - 0.5) / PER_OCTAVE);
}
