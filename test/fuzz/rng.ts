// A small seeded PRNG (mulberry32) for the fuzz schedule: the parent and every child draw from
// their own stream derived from the round's seed, so a seed replays the same choices (the
// timing of a multi-process run, of course, never replays exactly).
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from nothing");
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/** A seed of its own for the n-th child of a round. */
export function derive(seed: number, n: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, n + 1) + n * 0x85ebca6b) >>> 0;
}
