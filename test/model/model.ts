/*
 * A small, pure model of the Queue and Channel contract (docs/api.md, docs/guarantees.md).
 * No I/O: the commands run an operation on the real store, then hand its outcome to the model,
 * which checks it against the contract and updates its own state.
 *
 * Where the contract leaves a choice to the implementation, the model accepts every allowed
 * answer instead of predicting one:
 * - when a lapsed lease or an expired ttl becomes visible (the store may still show the job as
 *   it was until a claim reaches it): such a job has a second, "stale" possibility;
 * - on PostgreSQL, which measures time on the server's clock: times are compared within a
 *   tolerance, and the generator keeps every duration far from any boundary.
 */
import { isDeepStrictEqual } from "node:util";
import { isOpen } from "./known.js";

export type Stored = "pending" | "reserved" | "completed" | "dead" | "gone";
export type Observed = "pending" | "delayed" | "reserved" | "completed" | "dead";
export type CodecName = "default" | "json" | "binary";

/** A moment known within [lo, hi] ms (lo = hi when exact). */
export interface Instant {
  lo: number;
  hi: number;
}

export const at = (v: number, r = 0): Instant => ({ lo: v - r, hi: v + r });
const shift = (i: Instant, d: number): Instant => ({ lo: i.lo + d, hi: i.hi + d });

/** One possible current record of a job. */
export interface Rec {
  state: Stored;
  attempts: number;
  runAt: Instant;
  leaseUntil: Instant | null;
  finishedAt: Instant | null;
  lastError: string | null;
  /** lastError only has to start with this (a decode error's text is the parser's). */
  lastErrorPrefix: boolean;
  result: { value: unknown } | null;
  key: string | null;
  /** Deadline of a never-started job with a ttl. */
  expiresAt: Instant | null;
  /** Which claim holds it: a token that never repeats for a job. */
  token: number;
  /** The store may have dropped its key (N5: a receive that buried it expired). */
  keyLost?: boolean;
}

export interface MJob {
  id: number;
  queue: string;
  serial: number;
  bytes: Buffer;
  format: 0 | 1;
  priority: number;
  maxAttempts: number;
  backoff: string | null;
  createdAt: Instant;
  /** What the contract says the job is now. */
  rec: Rec;
  /** What the store may still show instead (a lapse or expiry not yet applied), or null. */
  stale: Rec | null;
  /** Why `stale` is there: "4" (a ttl expiry), "N1" (a lapse on the last attempt), "lapse", "decode". */
  cause: string | null;
  /** The ttl deadline the job was added with (until a retry), for gating N6. */
  ttlDeadline: Instant | null;
}

export interface Holder {
  id: number;
  queue: string;
  token: number;
  attempts: number;
}

export interface HandleSpec {
  queue: string;
  codec: CodecName;
  priority: number;
  maxAttempts: number;
  /** Stored JSON of the handle's object backoff, or null. */
  backoff: string | null;
  backoffFn: ((attempt: number) => number) | null;
  ttl: number | null;
  delay: number;
  lease: number;
  keepCompleted: boolean;
}

export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: string; jobId?: number; message: string };

export class ModelError extends Error {
  override name = "ModelError";
}

export function fail(message: string): never {
  throw new ModelError(message);
}

// ---- codecs (the contract's payload rules) ---------------------------------------------------

export type Encoded = { bytes: Buffer; format: 0 | 1 } | "ENCODE";

function jsonBytes(value: unknown): Encoded {
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === "bigint" || typeof v === "function" || typeof v === "symbol")
        throw new TypeError("no");
      return v;
    });
    return text === undefined ? "ENCODE" : { bytes: Buffer.from(text, "utf8"), format: 0 };
  } catch {
    return "ENCODE";
  }
}

export function encode(codec: CodecName, value: unknown): Encoded {
  if (codec !== "json" && value instanceof Uint8Array) return { bytes: Buffer.from(value), format: 1 };
  if (codec === "binary") return "ENCODE";
  return jsonBytes(value);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The decoded payload, or undefined wrapped as { bad } when it cannot be decoded. */
export function decode(codec: CodecName, bytes: Buffer, format: 0 | 1): { value: unknown } | { bad: true } {
  if (codec === "binary" || (codec === "default" && format === 1)) return { value: Buffer.from(bytes) };
  try {
    return { value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { bad: true };
  }
}

/** What get and list return: decoded, or the raw bytes when they cannot be decoded. */
export function lenient(codec: CodecName, bytes: Buffer, format: 0 | 1): unknown {
  const d = decode(codec, bytes, format);
  return "value" in d ? d.value : Buffer.from(bytes);
}

/** A result as stored with the default codec and read back. */
export function storedResult(value: unknown): { value: unknown } | null {
  if (value === undefined) return null;
  const e = encode("default", value);
  if (e === "ENCODE") return null;
  return { value: lenient("default", e.bytes, e.format) };
}

export const DEFAULT_BACKOFF = JSON.stringify({ type: "exponential", delay: 1000, max: 3_600_000 });

export function backoffDelay(stored: string, attempt: number): number {
  const p = JSON.parse(stored) as { type: string; delay: number; max?: number };
  if (p.type === "fixed") return p.delay;
  return Math.min(p.max ?? 3_600_000, p.delay * 2 ** Math.max(0, attempt - 1));
}

// ---- the model ---------------------------------------------------------------------------------

const RANK_BEFORE = 1;
const RANK_AFTER = -1;
const RANK_MAYBE = 0;

export interface ModelOptions {
  /** Exact times (SQLite with a controlled clock) or the server's clock (PostgreSQL). */
  exactTime: boolean;
  /** Reopening finds the same jobs (false for :memory:). */
  persistent: boolean;
  /** Tolerance in ms when comparing times on a real clock. */
  tolerance: number;
}

export class Model {
  now: number;
  readonly jobs = new Map<number, MJob>();
  holders: Holder[] = [];
  maxId = 0;
  serial = 0;
  tokens = 0;
  readonly spoolOpen: boolean[];
  readonly opts: ModelOptions;
  /** Every queue name the commands use. */
  ctxQueues: string[] = [];

  constructor(now: number, spools: number, opts: ModelOptions) {
    this.now = now;
    this.spoolOpen = Array.from({ length: spools }, () => true);
    this.opts = opts;
  }

  // ---- time --------------------------------------------------------------------------------

  /** Applies what the passing of time means under the contract: lapses and expiries. */
  settleTime(): void {
    for (const j of this.jobs.values()) {
      const r = j.rec;
      if (r.state === "reserved" && r.leaseUntil !== null && r.leaseUntil.hi < this.now) {
        const spent = r.attempts >= j.maxAttempts;
        if (j.stale === null) {
          j.stale = r;
          j.cause = spent ? "N1" : "lapse";
        }
        j.rec = {
          ...r,
          state: spent ? "dead" : "pending",
          leaseUntil: null,
          lastError: "lease expired",
          lastErrorPrefix: false,
          finishedAt: spent ? { lo: r.leaseUntil.lo, hi: Number.POSITIVE_INFINITY } : null,
        };
      } else if (r.state === "pending" && r.expiresAt !== null && r.expiresAt.hi <= this.now) {
        if (j.stale === null) {
          j.stale = r;
          j.cause = "4";
        }
        j.rec = {
          ...r,
          state: "dead",
          attempts: 0,
          keyLost: r.key !== null && isOpen("N5"),
          lastError: "expired",
          lastErrorPrefix: false,
          expiresAt: null,
          finishedAt: { lo: r.expiresAt.lo, hi: Number.POSITIVE_INFINITY },
        };
      }
    }
  }

  advance(ms: number): number {
    this.now += ms;
    this.settleTime();
    return this.now;
  }

  // ---- views -------------------------------------------------------------------------------

  observed(r: Rec): Observed | "gone" {
    if (r.state === "pending") return r.runAt.lo > this.now ? "delayed" : "pending";
    return r.state;
  }

  /** The job's possible records right now (one, or two while a change may not show yet). */
  options(j: MJob): Rec[] {
    return j.stale === null ? [j.rec] : [j.rec, j.stale];
  }

  inQueue(queue: string): MJob[] {
    return [...this.jobs.values()].filter((j) => j.queue === queue).sort((a, b) => a.id - b.id);
  }

  /** A ready job a claim may hand out: pending, due, not past its ttl. */
  claimable(r: Rec): boolean {
    return (
      r.state === "pending" && r.runAt.hi <= this.now && (r.expiresAt === null || r.expiresAt.lo > this.now)
    );
  }

  /**
   * Whether a ranks before b in claim order: 1 yes, -1 no, 0 either may. runAt is kept to the
   * whole millisecond, and a tie goes to the lower id: two runAts that can only meet at one
   * millisecond (one's latest is the other's earliest) rank by id there as anywhere else.
   */
  rank(a: MJob, ra: Rec, b: MJob, rb: Rec): number {
    if (a.priority !== b.priority) return a.priority > b.priority ? RANK_BEFORE : RANK_AFTER;
    const x = ra.runAt;
    const y = rb.runAt;
    if (x.hi < y.lo || (x.hi === y.lo && a.id < b.id)) return RANK_BEFORE;
    if (y.hi < x.lo || (y.hi === x.lo && b.id < a.id)) return RANK_AFTER;
    return RANK_MAYBE;
  }

  /**
   * The runAt of a job made due `delay` ms after the command that is running now. On a
   * controlled clock, exact. On PostgreSQL the server stamps it at some moment of the command,
   * which the model saw start (`now`, read before it) and end (read here, after it): assuming
   * the first ranked a retried job ahead of one added while the clock moved on.
   */
  span(delay: number): Instant {
    return this.opts.exactTime ? at(this.now + delay) : { lo: this.now + delay, hi: Date.now() + delay };
  }

  /** The live job holding `key` in `queue` (pending, delayed or reserved), certain or maybe. */
  keyHolders(queue: string, key: string): { certain: MJob | null; maybe: MJob[] } {
    let certain: MJob | null = null;
    const maybe: MJob[] = [];
    for (const j of this.inQueue(queue)) {
      const live = this.options(j).map(
        (r) => r.key === key && (r.state === "pending" || r.state === "reserved"),
      );
      if (live.every(Boolean) && !this.options(j).some((r) => r.keyLost)) certain = j;
      else if (live.some(Boolean)) maybe.push(j);
    }
    return { certain, maybe };
  }

  hasStale(queue: string): boolean {
    return this.inQueue(queue).some((j) => j.stale !== null);
  }

  // ---- checks on what the store returned ---------------------------------------------------

  within(what: string, actual: Date | undefined, i: Instant | null): void {
    if (i === null) {
      if (actual !== undefined) fail(`${what}: expected none, got ${actual.toISOString()}`);
      return;
    }
    if (!(actual instanceof Date)) fail(`${what}: expected a Date, got ${String(actual)}`);
    const t = actual.getTime();
    const tol = this.opts.tolerance;
    const hi = i.hi === Number.POSITIVE_INFINITY ? this.now : i.hi;
    if (t < i.lo - tol || t > hi + tol) {
      fail(`${what}: expected ${i.lo === i.hi ? i.lo : `[${i.lo}, ${i.hi}]`} (±${tol}), got ${t}`);
    }
  }

  /** Why `info` cannot be record `r` of job `j` read through a handle with `codec`, or null. */
  mismatch(j: MJob, r: Rec, info: Record<string, unknown>, codec: CodecName): string | null {
    try {
      const state = this.observed(r);
      if (state === "gone") return "the job should not exist";
      const eq = (what: string, a: unknown, b: unknown) => {
        if (!isDeepStrictEqual(a, b)) fail(`${what}: expected ${show(b)}, got ${show(a)}`);
      };
      eq("id", info.id, j.id);
      eq("queue", info.queue, j.queue);
      eq("state", info.state, state);
      eq("payload", info.payload, lenient(codec, j.bytes, j.format));
      eq("attempts", info.attempts, r.attempts);
      eq("maxAttempts", info.maxAttempts, j.maxAttempts);
      eq("priority", info.priority, j.priority);
      // A dead letter may drop its key (it never blocks a new job); any other job keeps it.
      if (!((r.state === "dead" || r.keyLost) && info.key === undefined))
        eq("key", info.key, r.key ?? undefined);
      if (r.lastErrorPrefix) {
        if (typeof info.lastError !== "string" || !info.lastError.startsWith(r.lastError ?? ""))
          fail(`lastError: expected "${r.lastError}…", got ${show(info.lastError)}`);
      } else eq("lastError", info.lastError, r.lastError ?? undefined);
      eq("result", info.result, r.result === null ? undefined : r.result.value);
      this.within("createdAt", info.createdAt as Date, j.createdAt);
      this.within("runAt", info.runAt as Date, r.runAt);
      this.within(
        "leaseUntil",
        info.leaseUntil as Date | undefined,
        r.state === "reserved" ? r.leaseUntil : null,
      );
      this.within("finishedAt", info.finishedAt as Date | undefined, r.finishedAt);
      return null;
    } catch (e) {
      if (e instanceof ModelError) return e.message;
      throw e;
    }
  }

  /** Checks an observed JobInfo; settles the job when it shows the contract's record. */
  observe(j: MJob, info: Record<string, unknown>, codec: CodecName): void {
    const first = this.mismatch(j, j.rec, info, codec);
    if (first === null) {
      j.stale = null;
      this.learnTimes(j.rec, info);
      return;
    }
    if (j.stale !== null && this.mismatch(j, j.stale, info, codec) === null) return;
    fail(`job ${j.id}: ${first}${j.stale === null ? "" : ` (nor its not-yet-applied earlier record)`}`);
  }

  /** An observed time narrows an interval that was only bounded (e.g. when a rescue ran). */
  private learnTimes(r: Rec, info: Record<string, unknown>): void {
    if (
      r.finishedAt !== null &&
      r.finishedAt.hi === Number.POSITIVE_INFINITY &&
      info.finishedAt instanceof Date
    ) {
      const t = info.finishedAt.getTime();
      r.finishedAt = { lo: t, hi: t };
    }
  }

  /** A job id that must be new: ids are never reused and grow with each add. */
  newId(id: unknown): number {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1)
      fail(`id: expected a new id, got ${show(id)}`);
    if (this.jobs.has(id) || id <= this.maxId)
      fail(`id ${id} is not new: ids seen so far go up to ${this.maxId}`);
    this.maxId = id;
    return id;
  }

  /** Size counts the store may show: every combination of each job's possible records. */
  possibleSizes(queue: string): Set<string> {
    let sizes = new Set<string>(["0,0,0,0,0"]);
    const idx: Record<Observed, number> = { pending: 0, delayed: 1, reserved: 2, completed: 3, dead: 4 };
    for (const j of this.inQueue(queue)) {
      const next = new Set<string>();
      for (const s of sizes) {
        for (const r of this.options(j)) {
          const o = this.observed(r);
          const v = s.split(",").map(Number);
          if (o !== "gone") v[idx[o]] = (v[idx[o]] ?? 0) + 1;
          next.add(v.join(","));
        }
      }
      sizes = next;
    }
    return sizes;
  }

  /** Items a channel counts (pending, delayed, reserved): every possible value. */
  possibleBacklog(queue: string): { min: number; max: number } {
    let min = 0;
    let max = 0;
    for (const j of this.inQueue(queue)) {
      const counts = this.options(j).map((r) => (r.state === "pending" || r.state === "reserved" ? 1 : 0));
      min += Math.min(...counts);
      max += Math.max(...counts);
    }
    return { min, max };
  }

  // ---- transitions -------------------------------------------------------------------------

  addJob(
    id: number,
    queue: string,
    serial: number,
    enc: { bytes: Buffer; format: 0 | 1 },
    o: NewJobPlan,
  ): MJob {
    const runAt = o.runAt ?? this.span(o.delay);
    const job: MJob = {
      id,
      queue,
      serial,
      bytes: enc.bytes,
      format: enc.format,
      priority: o.priority,
      maxAttempts: o.maxAttempts,
      backoff: o.backoff,
      createdAt: at(this.now),
      rec: {
        state: "pending",
        attempts: 0,
        runAt,
        leaseUntil: null,
        finishedAt: null,
        lastError: null,
        lastErrorPrefix: false,
        result: null,
        key: o.key,
        expiresAt: o.ttl === null ? null : shift(runAt, o.ttl),
        token: 0,
      },
      stale: null,
      cause: null,
      ttlDeadline: null,
    };
    job.ttlDeadline = job.rec.expiresAt;
    this.jobs.set(id, job);
    return job;
  }

  claim(j: MJob, lease: number): number {
    const base = this.claimable(j.rec) ? j.rec : (j.stale ?? j.rec);
    this.tokens += 1;
    j.rec = {
      ...base,
      state: "reserved",
      attempts: base.attempts + 1,
      leaseUntil: at(this.now + lease),
      expiresAt: null,
      token: this.tokens,
    };
    j.stale = null;
    return this.tokens;
  }

  /**
   * After a claim that came back short, every lapse and expiry in the queue has been applied,
   * and no job the claim left was ready in the store.
   */
  settleQueue(queue: string, picked: ReadonlySet<number>): void {
    for (const j of this.inQueue(queue)) {
      if (j.stale === null || picked.has(j.id)) continue;
      if (j.stale.state !== "reserved" && j.stale.state !== "pending") continue;
      const timed = j.cause === "lapse" || j.cause === "N1" || j.cause === "4";
      if (timed || this.claimable(j.stale)) {
        j.stale = null;
        if (j.rec.finishedAt !== null && j.rec.finishedAt.hi === Number.POSITIVE_INFINITY) {
          j.rec.finishedAt = { lo: j.rec.finishedAt.lo, hi: this.now };
        }
      }
    }
  }

  forget(id: number): void {
    this.jobs.delete(id);
  }

  /** The delay a failed job waits, per the contract: retryIn, then the job's own backoff, then the queue's, then the default. */
  failDelay(j: MJob, h: HandleSpec, retryIn: number | undefined): number | "ambiguous" {
    if (retryIn !== undefined) return retryIn;
    const attempt = j.rec.attempts;
    if (j.backoff !== null) return backoffDelay(j.backoff, attempt);
    if (h.backoffFn !== null) return h.backoffFn(attempt);
    // The contract does not say whether a queue's object default applies to a job added without it.
    if (h.backoff !== null) return "ambiguous";
    return backoffDelay(DEFAULT_BACKOFF, attempt);
  }

  /** Which job ids a retry may move, in the order the store applies them (one per live key). */
  retryPlan(queue: string, ids: number[] | null): MJob[] {
    const moved: MJob[] = [];
    const liveKeys = new Set<string>();
    for (const j of this.inQueue(queue)) {
      if ((j.rec.state === "pending" || j.rec.state === "reserved") && j.rec.key !== null)
        liveKeys.add(j.rec.key);
    }
    const pick =
      ids === null ? this.inQueue(queue) : ids.map((id) => this.jobs.get(id)).filter((j) => j !== undefined);
    for (const j of pick) {
      if (j.queue !== queue || j.rec.state !== "dead" || moved.includes(j)) continue;
      if (j.rec.key !== null) {
        if (liveKeys.has(j.rec.key)) continue;
        liveKeys.add(j.rec.key);
      }
      moved.push(j);
    }
    return moved;
  }
}

export interface NewJobPlan {
  priority: number;
  maxAttempts: number;
  backoff: string | null;
  key: string | null;
  delay: number;
  runAt: Instant | null;
  ttl: number | null;
}

export function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return `Buffer<${v.toString("hex").slice(0, 40)}>`;
  if (v instanceof Date) return `Date(${v.getTime()})`;
  try {
    return JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "bigint"
        ? `${x}n`
        : x instanceof Uint8Array
          ? `bytes:${Buffer.from(x).toString("hex")}`
          : x,
    );
  } catch {
    return String(v);
  }
}
