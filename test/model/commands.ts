/*
 * The commands of the model test: each runs one public operation on the real store and checks
 * its outcome against the model (model.ts), then updates the model. Every command prints as
 * the call it makes, so a shrunk failure reads as a script.
 */
import fc from "fast-check";
import { SpoolError } from "../../src/index.js";
import type { Job } from "../../src/types.js";
import { isOpen } from "./known.js";
import {
  at,
  type CodecName,
  DEFAULT_BACKOFF,
  decode,
  encode,
  fail,
  type HandleSpec,
  type Instant,
  type MJob,
  type Model,
  type NewJobPlan,
  type Outcome,
  type Rec,
  show,
  storedResult,
} from "./model.js";
import { CHANNEL, CHANNEL_MAX, FAR, MAX_PAYLOAD, openSpool, type Real } from "./world.js";

type Cmd = fc.AsyncCommand<Model, Real>;

export interface Ctx {
  spools: number;
  /** SQLite with the controlled clock: time moves only when a command says so. */
  exactTime: boolean;
  postgres: boolean;
  specs: HandleSpec[];
}

/** Counts of what the commands met, printed with SPOOL_MODEL_STATS=1 (to tune the generator). */
export const stats = new Map<string, number>();
let current = "";
const count = (what: string) => stats.set(what, (stats.get(what) ?? 0) + 1);

async function outcome<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    const value = await run();
    count(`${current} ok${Array.isArray(value) ? ` len${Math.min(value.length, 3)}` : ""}`);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof SpoolError) count(`${current} ${e.code}`);
    if (e instanceof SpoolError) {
      const o: Outcome<T> = { ok: false, code: e.code, message: e.message };
      if (e.jobId !== undefined) o.jobId = e.jobId;
      return o;
    }
    return { ok: false, code: `not a SpoolError: ${String(e)}`, message: String((e as Error)?.stack ?? e) };
  }
}

function expectError(o: Outcome<unknown>, codes: string[], what: string): boolean {
  if (o.ok) fail(`${what}: expected ${codes.join(" or ")}, got success ${show(o.value)}`);
  if (!codes.includes(o.code)) fail(`${what}: expected ${codes.join(" or ")}, got ${o.code}: ${o.message}`);
  return true;
}

function expectOk<T>(o: Outcome<T>, what: string): T {
  if (!o.ok) fail(`${what}: expected success, got ${o.code}: ${o.message}`);
  return o.value;
}

/** The contract's rule for every duration and time: whole ms, rounded up (`+ 0`: never -0). */
const whole = (n: number) => Math.ceil(n) + 0;

// ---- generated values --------------------------------------------------------------------------

const CHARS = ["a", "b", "\0", "é", "😀", "\ud800", '"', "\\", "\n", " "];
const text = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 10 });
/** Error texts, lone surrogates included: stored as U+FFFD on every store (see errorText below). */
const errorChars = text;

export type PayloadGen =
  | { kind: "obj" | "str" | "arr" | "big"; text: string; n: number }
  | { kind: "buf"; json: boolean; bytes: Uint8Array; text: string }
  | { kind: "bad"; bad: "undefined" | "bigint" | "function" | "cycle" };

const payloadArb: fc.Arbitrary<PayloadGen> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom("obj", "str", "arr"), text, n: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("big"), text, n: fc.integer() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("buf"),
      json: fc.boolean(),
      bytes: fc.uint8Array({ maxLength: 6 }),
      text,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("bad"),
      bad: fc.constantFrom("undefined", "bigint", "function", "cycle"),
    }),
  },
) as fc.Arbitrary<PayloadGen>;

/** A payload value, made unique with `serial` so a received item names its job. */
export function payloadValue(p: PayloadGen, serial: number): unknown {
  switch (p.kind) {
    case "obj":
      return { s: serial, t: p.text, n: p.n, nested: [null, true, { x: p.text }] };
    case "str":
      return `${serial}:${p.text}`;
    case "arr":
      return [serial, p.text, null, p.n];
    case "big":
      return `${serial}:${p.text}${"x".repeat(3000)}`;
    case "buf":
      return p.json
        ? Buffer.from(JSON.stringify({ b: serial, t: p.text }))
        : Buffer.concat([Buffer.from([0xff, 0]), Buffer.from(`${serial}`), p.bytes]);
    case "bad": {
      if (p.bad === "undefined") return undefined;
      if (p.bad === "bigint") return { n: BigInt(serial) };
      if (p.bad === "function") return { f: () => serial };
      const cycle: Record<string, unknown> = { s: serial };
      cycle.self = cycle;
      return cycle;
    }
  }
}

export interface OptsGen {
  bad?: number;
  priority?: number;
  delay?: number;
  runAt?: { offset: number; date: boolean };
  maxAttempts?: number;
  backoff?: { type: "fixed"; delay: number } | { type: "exponential"; delay?: number; max?: number };
  key?: string;
  ttl?: number;
}

const BAD_OPTIONS: Record<string, unknown>[] = [
  { priority: 1.5 },
  { delay: -1 },
  { delay: 5, runAt: 0 },
  { maxAttempts: 0 },
  { ttl: 0 },
  { backoff: { type: "linear" } },
  { key: "" },
  { key: "k\0z" },
  { bogus: 1 },
  { delay: Number.NaN },
  { runAt: "soon" },
  { priority: 2 ** 60 },
  { maxAttempts: 1.5 },
];

function durations(ctx: Ctx) {
  const frac = fc.integer({ min: 3, max: 60 }).map((k) => k + 0.5);
  const fracOk = !isOpen("1");
  if (!ctx.exactTime) {
    return {
      dur: fc.constantFrom(0, FAR),
      pos: fc.constantFrom(FAR, 2 * FAR),
      offset: fc.constantFrom(-5000, FAR),
    };
  }
  const small = fc.integer({ min: 1, max: 60 });
  const large = fc.integer({ min: 100, max: 5000 });
  const pos = fracOk ? fc.oneof(small, large, frac) : fc.oneof(small, large);
  return {
    dur: fracOk ? fc.oneof(fc.constant(0), small, large, frac) : fc.oneof(fc.constant(0), small, large),
    pos,
    offset: fracOk
      ? fc.oneof(fc.integer({ min: -100, max: 200 }), frac)
      : fc.integer({ min: -100, max: 200 }),
  };
}

function optsArb(ctx: Ctx): fc.Arbitrary<OptsGen | undefined> {
  const { dur, pos, offset } = durations(ctx);
  // A key with a NUL is refused on every backend (PostgreSQL text cannot hold it): BAD_OPTIONS.
  const keys = ["k1", "k2"];
  const good = fc
    .record(
      {
        priority: fc.integer({ min: -2, max: 3 }),
        delay: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, dur),
        runAt: fc.record({ offset, date: fc.boolean() }),
        maxAttempts: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })),
        backoff: fc.oneof(
          fc.record({ type: fc.constant("fixed" as const), delay: dur }),
          fc.record(
            {
              type: fc.constant("exponential" as const),
              delay: ctx.exactTime ? fc.integer({ min: 0, max: 20 }) : fc.constant(FAR),
              max: ctx.exactTime ? fc.integer({ min: 0, max: 100 }) : fc.constant(FAR),
            },
            { requiredKeys: ["type"] },
          ),
        ),
        key: fc.constantFrom(...keys),
        ttl: pos,
      },
      { requiredKeys: [] },
    )
    .map((o): OptsGen => {
      // delay and runAt together is the invalid case below; here one wins.
      if (o.delay !== undefined && o.runAt !== undefined) delete o.runAt;
      return o as OptsGen;
    });
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: good },
    { weight: 1, arbitrary: fc.nat(BAD_OPTIONS.length - 1).map((bad) => ({ bad })) },
  );
}

function realOptions(o: OptsGen | undefined, now: number): Record<string, unknown> | undefined {
  if (o === undefined) return undefined;
  if (o.bad !== undefined) return BAD_OPTIONS[o.bad];
  const out: Record<string, unknown> = {};
  for (const k of ["priority", "delay", "maxAttempts", "backoff", "key", "ttl"] as const) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  if (o.runAt !== undefined) out.runAt = o.runAt.date ? new Date(now + o.runAt.offset) : now + o.runAt.offset;
  return out;
}

function storedBackoff(b: NonNullable<OptsGen["backoff"]>): string {
  if (b.type === "fixed") return JSON.stringify({ type: "fixed", delay: b.delay });
  return JSON.stringify({ type: "exponential", delay: b.delay ?? 1000, max: b.max ?? 3_600_000 });
}

function plan(h: HandleSpec, o: OptsGen | undefined, now: number): NewJobPlan {
  const g = o ?? {};
  let delay = h.delay;
  let runAt: Instant | null = null;
  if (g.delay !== undefined) delay = g.delay;
  else if (g.runAt !== undefined) {
    // A Date holds whole ms: a fractional runAt given as a Date is already rounded down.
    const v = now + g.runAt.offset;
    runAt = at(g.runAt.date ? Math.floor(v) : whole(v));
    delay = 0;
  }
  return {
    priority: g.priority ?? h.priority,
    maxAttempts: g.maxAttempts ?? h.maxAttempts,
    backoff: g.backoff !== undefined ? storedBackoff(g.backoff) : h.backoff,
    key: g.key ?? null,
    delay: whole(delay),
    runAt,
    ttl: g.ttl !== undefined ? whole(g.ttl) : h.ttl === null ? null : whole(h.ttl),
  };
}

// ---- helpers shared by the commands ------------------------------------------------------------

function pgOpenAdd(ctx: Ctx, p: NewJobPlan): boolean {
  // PostgreSQL: nothing may come due or expire during the run (the server's clock moves).
  if (ctx.exactTime) return true;
  return (p.delay === 0 || p.delay >= FAR) && (p.ttl === null || p.ttl >= FAR);
}

/** The job a reference names, or null for an id that never existed. */
function jobRef(m: Model, ref: number): number {
  const ids = [...m.jobs.keys()].sort((a, b) => a - b);
  if (ref === 0 || ids.length === 0) return 1_000_000_000 + ref;
  // Small references name the newest jobs: the ones most likely to still be in play.
  return ids[ids.length - 1 - ((ref - 1) % ids.length)] as number;
}

/** A job id's possible records in the queue of a handle (a job of another queue is absent). */
function recsIn(m: Model, queue: string, id: number): (Rec | null)[] {
  const j = m.jobs.get(id);
  if (j === undefined || j.queue !== queue) return [null];
  return m.options(j).map((r) => (r.state === "gone" ? null : r));
}

function checkJob(m: Model, j: MJob, job: Job<unknown>, codec: CodecName): void {
  const r = j.rec;
  const d = decode(codec, j.bytes, j.format);
  if (!("value" in d)) fail(`job ${j.id} was handed out though its payload cannot be decoded`);
  const want: Record<string, unknown> = {
    id: j.id,
    queue: j.queue,
    payload: d.value,
    attempts: r.attempts,
    maxAttempts: j.maxAttempts,
    priority: j.priority,
    key: r.keyLost && (job as { key?: string }).key === undefined ? undefined : (r.key ?? undefined),
  };
  for (const [k, v] of Object.entries(want)) {
    const got = (job as unknown as Record<string, unknown>)[k];
    if (show(got) !== show(v) || (Buffer.isBuffer(v) && !Buffer.isBuffer(got))) {
      fail(`reserved job ${j.id}: ${k} expected ${show(v)}, got ${show(got)}`);
    }
  }
  m.within(`job ${j.id} createdAt`, job.createdAt, j.createdAt);
  m.within(`job ${j.id} runAt`, job.runAt, r.runAt);
  m.within(`job ${j.id} leaseUntil`, job.leaseUntil, r.leaseUntil);
}

function closed(m: Model, s: number): boolean {
  return !m.spoolOpen[s];
}

// ---- the commands --------------------------------------------------------------------------------

export class Add implements Cmd {
  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly h: number,
    readonly payloads: PayloadGen[],
    readonly batch: boolean,
    readonly opts: OptsGen | undefined,
    readonly mutate: boolean,
  ) {}

  private spec(): HandleSpec {
    return this.ctx.specs[this.h] as HandleSpec;
  }

  check(m: Readonly<Model>): boolean {
    // N4: addBatch([]) accepts invalid options.
    if (this.batch && this.payloads.length === 0 && this.opts?.bad !== undefined && isOpen("N4"))
      return false;
    if (this.opts?.bad !== undefined || closed(m as Model, this.s)) return true;
    const p = plan(this.spec(), this.opts, m.now);
    if (!pgOpenAdd(this.ctx, p)) return false;
    if (p.key !== null) {
      for (const j of (m as Model).keyHolders(this.spec().queue, p.key).maybe) {
        if ((m as Model).options(j).some((r) => r.keyLost) && isOpen("N5")) return false;
        if (j.stale?.state === "pending" && isOpen("4")) return false;
        if (j.stale?.state === "reserved" && isOpen("N1")) return false;
      }
    }
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const h = this.spec();
    const queue = real.handles[this.s]?.[this.h];
    const serials = this.payloads.map(() => ++m.serial);
    const values = this.payloads.map((p, i) => payloadValue(p, serials[i] as number));
    const options = realOptions(this.opts, m.now);
    // The model encodes at call time, before the caller can touch the value again.
    const encoded = values.map((v) => encode(h.codec, v));
    const call = (async () => {
      if (queue === undefined) throw new SpoolError("CLOSED", "no handle");
      return this.batch
        ? queue.addBatch(values, options as never)
        : [await queue.add(values[0], options as never)];
    })();
    if (this.mutate) for (const v of values) if (Buffer.isBuffer(v)) v.fill(0x41);
    const o = await outcome(() => call);
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    if (this.opts?.bad !== undefined) return void expectError(o, ["INVALID_ARGUMENT"], what);
    if (this.batch && values.length === 0) {
      if (!o.ok || o.value.length !== 0) fail(`${what}: expected [], got ${show(o)}`);
      return;
    }
    for (const e of encoded) {
      if (e === "ENCODE") return void expectError(o, ["ENCODE"], what);
      if (e.bytes.length > (MAX_PAYLOAD[this.s] as number))
        return void expectError(o, ["PAYLOAD_TOO_LARGE"], what);
    }
    const p = plan(h, this.opts, m.now);
    // A key with a NUL byte is either stored or refused, the same way everywhere.
    if (p.key?.includes("\0") && !o.ok && o.code === "INVALID_ARGUMENT") return;
    const ids = expectOk(o, what) as number[];
    if (!Array.isArray(ids) || ids.length !== values.length)
      fail(`${what}: expected ${values.length} ids, got ${show(ids)}`);
    ids.forEach((id, i) => {
      const held = p.key === null ? null : m.keyHolders(h.queue, p.key).certain;
      if (held !== null && held.rec.key === p.key) {
        if (id !== held.id) fail(`${what}: key ${show(p.key)} is held by job ${held.id}, got id ${id}`);
        return;
      }
      m.addJob(m.newId(id), h.queue, serials[i] as number, encoded[i] as { bytes: Buffer; format: 0 | 1 }, p);
    });
    m.settleTime();
  }

  toString(): string {
    const call = this.batch ? "addBatch" : "add";
    const arg = this.batch ? `[${this.payloads.map(show).join(", ")}]` : show(this.payloads[0]);
    return `s${this.s}.h${this.h}.${call}(${arg}, ${show(this.opts)})${this.mutate ? " /*then mutates its Buffers*/" : ""}`;
  }
}

export class Reserve implements Cmd {
  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly h: number,
    readonly limit: number | null,
    readonly lease: number | undefined,
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const h = this.ctx.specs[this.h] as HandleSpec;
    const queue = real.handles[this.s]?.[this.h];
    const opts = this.lease === undefined ? undefined : { lease: this.lease };
    const o = await outcome(async () => {
      if (queue === undefined) throw new SpoolError("CLOSED", "no handle");
      if (this.limit === null) {
        const job = await queue.reserve(opts);
        return job === null ? [] : [job];
      }
      return queue.reserveBatch(this.limit, opts);
    });
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    const n = this.limit ?? 1;
    const lease = this.lease ?? h.lease;
    const picked = checkClaim(m, h.queue, n, h.codec, o, what, false);
    for (const [j, job] of picked) {
      const token = m.claim(j, whole(lease));
      checkJob(m, j, job as Job<unknown>, h.codec);
      m.holders.push({ id: j.id, queue: j.queue, token, attempts: j.rec.attempts });
      real.jobs.push(job as Job<unknown>);
    }
  }

  toString(): string {
    const opts = this.lease === undefined ? "" : `{ lease: ${this.lease} }`;
    return this.limit === null
      ? `s${this.s}.h${this.h}.reserve(${opts})`
      : `s${this.s}.h${this.h}.reserveBatch(${this.limit}${opts ? `, ${opts}` : ""})`;
  }
}

/**
 * Checks a claim (reserve) or take (recv) against the contract, tolerating lapses and expiries
 * not yet applied: it hands out only ready jobs, in order, as many as there are up to the limit,
 * never skipping a job that is certainly ready for one that ranks after it. Returns the jobs
 * taken, with what the store returned for each.
 */
function checkClaim(
  m: Model,
  queue: string,
  n: number,
  codec: CodecName,
  o: Outcome<unknown[]>,
  what: string,
  take: boolean,
): [MJob, unknown][] {
  const jobs = m.inQueue(queue);
  const certain = jobs.filter((j) => m.options(j).every((r) => m.claimable(r)));
  const maybe = jobs.filter((j) => !certain.includes(j) && m.options(j).some((r) => m.claimable(r)));
  const ready = [...certain, ...maybe];
  const rec = (j: MJob) => m.options(j).find((r) => m.claimable(r)) as Rec;
  const bad = (j: MJob) => !("value" in decode(codec, j.bytes, j.format));
  if (!o.ok) {
    if (o.code !== "DECODE") fail(`${what}: expected success or DECODE, got ${o.code}: ${o.message}`);
    const b = ready.find((j) => j.id === o.jobId);
    if (b === undefined || !bad(b)) fail(`${what}: DECODE names job ${o.jobId}, not a ready undecodable job`);
    for (const j of certain) {
      if (j !== b && bad(j) && m.rank(j, rec(j), b, rec(b)) === 1)
        fail(`${what}: DECODE names job ${b.id} but undecodable job ${j.id} comes first`);
    }
    buryUndecodable(m, b, take);
    if (take) {
      // The other undecodable items of the batch were buried too; which ones were taken is open.
      for (const j of ready) {
        if (j !== b && bad(j)) {
          j.stale = { ...rec(j) };
          j.cause = "decode";
        }
      }
      for (const j of ready) if (j !== b && bad(j)) buryUndecodable(m, j, true, true);
    }
    return [];
  }
  const got = o.value;
  const picked: [MJob, unknown][] = [];
  for (const item of got) {
    let j: MJob | undefined;
    if (take) {
      j = ready.find((c) => {
        const d = decode(codec, c.bytes, c.format);
        return "value" in d && show(d.value) === show(item) && !picked.some(([p]) => p === c);
      });
      if (j === undefined) fail(`${what}: received ${show(item)}, which is no ready item`);
    } else {
      const id = (item as Job<unknown>).id;
      j = ready.find((c) => c.id === id);
      if (j === undefined) fail(`${what}: handed out job ${id}, which is not ready`);
      if (picked.some(([p]) => p === j)) fail(`${what}: handed out job ${id} twice`);
    }
    if (bad(j)) fail(`${what}: handed out undecodable job ${j.id} instead of failing with DECODE`);
    picked.push([j, item]);
  }
  // Jobs ready by the contract must go out (up to the limit); one only the store may still show
  // ready (an item a refused receive may have buried) may or may not.
  const must = ready.filter((j) => m.claimable(j.rec));
  const short = picked.length < n;
  if (picked.length > n || (short && must.some((j) => !picked.some(([p]) => p === j)))) {
    fail(
      `${what}: expected ${Math.min(n, must.length)} of the ready jobs [${ready.map((j) => j.id)}], got ${picked.length}: [${picked.map(([j]) => j.id)}]`,
    );
  }
  for (let i = 1; i < picked.length; i++) {
    const [a] = picked[i - 1] as [MJob, unknown];
    const [b] = picked[i] as [MJob, unknown];
    if (m.rank(a, rec(a), b, rec(b)) === -1)
      fail(`${what}: job ${b.id} ranks before job ${a.id} but came after it`);
  }
  for (const j of certain) {
    if (picked.some(([p]) => p === j)) continue;
    for (const [p] of picked) {
      if (m.rank(j, rec(j), p, rec(p)) === 1)
        fail(`${what}: skipped ready job ${j.id} for job ${p.id}, which ranks after it`);
    }
  }
  if (short) m.settleQueue(queue, new Set(picked.map(([j]) => j.id)));
  return picked;
}

function buryUndecodable(m: Model, j: MJob, take: boolean, maybe = false): void {
  const r = m.options(j).find((x) => m.claimable(x)) as Rec;
  m.tokens += 1;
  const dead: Rec = {
    ...r,
    state: "dead",
    // A claim counts the attempt that met the bad payload; a receive takes no attempt.
    attempts: take ? r.attempts : r.attempts + 1,
    // The job keeps its key (dead, it holds none); N5: a receive's bury drops it on SQLite.
    key: r.key,
    keyLost: r.keyLost === true || (take && r.key !== null && isOpen("N5")),
    leaseUntil: null,
    expiresAt: null,
    finishedAt: at(m.now),
    lastError: "decode failed",
    lastErrorPrefix: true,
    token: m.tokens,
  };
  if (maybe) {
    j.rec = dead;
  } else {
    j.rec = dead;
    j.stale = null;
  }
}

type Ref = { holder: number } | { id: number };

function refString(r: Ref): string {
  return "holder" in r ? `held[${r.holder}]` : `id#${r.id}`;
}

/** What complete/fail/extend meet: the job, and whether a holder's claim is current. */
function heldOutcome(
  m: Model,
  queue: string,
  ref: Ref,
): { id: number; outcomes: ("ok" | "NOT_FOUND" | "LEASE_LOST")[]; gate3: boolean } {
  let id: number;
  let token: number | null = null;
  let attempts: number | null = null;
  if ("holder" in ref) {
    const h = m.holders[m.holders.length - 1 - (ref.holder % m.holders.length)];
    if (h === undefined) return { id: 0, outcomes: [], gate3: false };
    id = h.id;
    token = h.token;
    attempts = h.attempts;
  } else id = jobRef(m, ref.id);
  let gate3 = false;
  const outcomes = recsIn(m, queue, id).map((r) => {
    if (r === null) return "NOT_FOUND" as const;
    const held = r.state === "reserved" && r.leaseUntil !== null && r.leaseUntil.lo >= m.now;
    if (!held) return "LEASE_LOST" as const;
    if (token !== null && r.token !== token) {
      if (r.attempts === attempts) gate3 = true;
      return "LEASE_LOST" as const;
    }
    return "ok" as const;
  });
  return { id, outcomes, gate3 };
}

/**
 * The stored text of a thrown value: PostgreSQL text holds no NUL, and a lone surrogate is not
 * text any driver keeps alike, so every backend stores U+FFFD for each.
 */
function errorText(e: ErrorGen): string {
  if (e.kind === "none") return "failed";
  return [...(e.kind === "error" ? e.text || "Error" : e.text)]
    .map((c) => (c === "\0" || (c.length === 1 && c >= "\uD800" && c <= "\uDFFF") ? "\uFFFD" : c))
    .join("");
}

/** Retention is stored with the queue: the handle created last that states one decides it. */
function keepsCompleted(specs: readonly HandleSpec[], queue: string): boolean {
  return specs.filter((h) => h.queue === queue).at(-1)?.keepCompleted ?? true;
}

type ErrorGen = { kind: "none" } | { kind: "error" | "string"; text: string };

function errorValue(e: ErrorGen): unknown {
  if (e.kind === "none") return undefined;
  return e.kind === "error" ? new Error(e.text) : e.text;
}

export abstract class HeldCmd implements Cmd {
  /** The handle used: mostly one of the job's own queue (else NOT_FOUND is all there is to see). */
  hx: number;

  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly h: number,
    readonly ref: Ref,
    readonly sameQueue: boolean,
  ) {
    this.hx = h;
  }

  spec(): HandleSpec {
    return this.ctx.specs[this.hx] as HandleSpec;
  }

  resolve(m: Model): void {
    this.hx = this.h;
    if (!this.sameQueue) return;
    let id: number | undefined;
    if ("holder" in this.ref) id = m.holders[m.holders.length - 1 - (this.ref.holder % m.holders.length)]?.id;
    else id = jobRef(m, this.ref.id);
    const queue = id === undefined ? undefined : m.jobs.get(id)?.queue;
    if (queue === undefined) return;
    const own = this.ctx.specs.flatMap((spec, i) => (spec.queue === queue ? [i] : []));
    this.hx = own[this.h % own.length] as number;
  }

  check(m: Readonly<Model>): boolean {
    if ("holder" in this.ref && m.holders.length === 0) return false;
    this.resolve(m as Model);
    if (closed(m as Model, this.s)) return true;
    const { gate3 } = heldOutcome(m as Model, this.spec().queue, this.ref);
    return !(gate3 && isOpen("3"));
  }

  /** The real Job or id the call passes. */
  arg(m: Model, real: Real): Job<unknown> | number {
    // Small references name the most recent holders: the ones most likely to still hold.
    if ("holder" in this.ref)
      return real.jobs[real.jobs.length - 1 - (this.ref.holder % real.jobs.length)] as Job<unknown>;
    return jobRef(m, this.ref.id);
  }

  abstract call(real: Real, arg: Job<unknown> | number): Promise<unknown>;
  abstract apply(m: Model, j: MJob, value: unknown, what: string): void;

  async run(m: Model, real: Real): Promise<void> {
    this.resolve(m);
    const arg = this.arg(m, real);
    const o = await outcome(async () => this.call(real, arg));
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    const { id, outcomes, gate3 } = heldOutcome(m, this.spec().queue, this.ref);
    if (gate3) count("stale holder at the same attempt");
    const got = o.ok ? "ok" : o.code;
    if (!(outcomes as string[]).includes(got)) {
      fail(
        `${what} on job ${id}: expected ${[...new Set(outcomes)].join(" or ")}, got ${o.ok ? `success ${show(o.value)}` : `${o.code}: ${o.message}`}`,
      );
    }
    const j = m.jobs.get(id) as MJob;
    if (got === "NOT_FOUND" && j !== undefined && j.queue === this.spec().queue) m.forget(id);
    if (got === "ok") {
      j.stale = null;
      this.apply(m, j, o.ok ? o.value : undefined, what);
    }
  }

  abstract toString(): string;
}

export class Complete extends HeldCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    ref: Ref,
    same: boolean,
    readonly result: PayloadGen | null,
  ) {
    super(ctx, s, h, ref, same);
  }

  value(): unknown {
    return this.result === null ? undefined : payloadValue(this.result, 0);
  }

  override check(m: Readonly<Model>): boolean {
    if (this.result?.kind === "bad" || this.result?.kind === "big") return false;
    return super.check(m);
  }

  call(real: Real, arg: Job<unknown> | number): Promise<unknown> {
    const q = real.handles[this.s]?.[this.hx];
    if (q === undefined) throw new SpoolError("CLOSED", "no handle");
    return q.complete(arg as number, this.value());
  }

  apply(m: Model, j: MJob): void {
    if (!keepsCompleted(this.ctx.specs, this.spec().queue)) {
      m.forget(j.id);
      return;
    }
    j.rec = {
      ...j.rec,
      state: "completed",
      leaseUntil: null,
      finishedAt: at(m.now),
      result: storedResult(this.value()),
    };
  }

  toString(): string {
    return `s${this.s}.h${this.hx}.complete(${refString(this.ref)}, ${show(this.value())})`;
  }
}

export class Fail extends HeldCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    ref: Ref,
    same: boolean,
    readonly error: ErrorGen,
    readonly retryIn: number | undefined,
  ) {
    super(ctx, s, h, ref, same);
  }

  override check(m: Readonly<Model>): boolean {
    if (!super.check(m)) return false;
    if (closed(m as Model, this.s)) return true;
    if (this.ctx.postgres && isOpen("17") && "text" in this.error && this.error.text.includes("\0"))
      return false;
    const { id, outcomes } = heldOutcome(m as Model, this.spec().queue, this.ref);
    if (!outcomes.includes("ok")) return true;
    const j = m.jobs.get(id) as MJob;
    if (j.rec.attempts >= j.maxAttempts) return true;
    const delay = (m as Model).failDelay(j, this.spec(), this.retryIn);
    if (delay === "ambiguous") return false;
    if (this.retryIn === undefined && j.backoff !== null && this.spec().backoffFn !== null && isOpen("6"))
      return false;
    return this.ctx.exactTime || delay === 0 || delay >= FAR;
  }

  call(real: Real, arg: Job<unknown> | number): Promise<unknown> {
    const q = real.handles[this.s]?.[this.hx];
    if (q === undefined) throw new SpoolError("CLOSED", "no handle");
    return q.fail(
      arg as number,
      errorValue(this.error),
      this.retryIn === undefined ? undefined : { retryIn: this.retryIn },
    );
  }

  apply(m: Model, j: MJob, value: unknown, what: string): void {
    const dead = j.rec.attempts >= j.maxAttempts;
    if (value !== (dead ? "dead" : "pending"))
      fail(`${what}: expected "${dead ? "dead" : "pending"}", got ${show(value)}`);
    const base = { ...j.rec, leaseUntil: null, lastError: errorText(this.error), lastErrorPrefix: false };
    if (dead) j.rec = { ...base, state: "dead", finishedAt: at(m.now) };
    else {
      const delay = m.failDelay(j, this.spec(), this.retryIn) as number;
      j.rec = { ...base, state: "pending", runAt: m.span(whole(delay)) };
    }
  }

  toString(): string {
    const opts = this.retryIn === undefined ? "" : `, { retryIn: ${this.retryIn} }`;
    return `s${this.s}.h${this.hx}.fail(${refString(this.ref)}, ${show(errorValue(this.error))}${opts})`;
  }
}

export class Extend extends HeldCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    ref: Ref,
    same: boolean,
    readonly ms: number,
  ) {
    super(ctx, s, h, ref, same);
  }

  call(real: Real, arg: Job<unknown> | number): Promise<unknown> {
    const q = real.handles[this.s]?.[this.hx];
    if (q === undefined) throw new SpoolError("CLOSED", "no handle");
    return q.extend(arg as number, this.ms);
  }

  apply(m: Model, j: MJob): void {
    j.rec = { ...j.rec, leaseUntil: at(m.now + whole(this.ms)) };
  }

  toString(): string {
    return `s${this.s}.h${this.hx}.extend(${refString(this.ref)}, ${this.ms})`;
  }
}

export abstract class QueueCmd implements Cmd {
  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly h: number,
  ) {}

  spec(): HandleSpec {
    return this.ctx.specs[this.h] as HandleSpec;
  }

  check(_m: Readonly<Model>): boolean {
    return true;
  }

  abstract call(m: Model, real: Real): Promise<unknown>;
  abstract verify(m: Model, value: unknown, what: string): void;

  async run(m: Model, real: Real): Promise<void> {
    const o = await outcome(async () => this.call(m, real));
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    this.verify(m, expectOk(o, what), what);
  }

  q(real: Real) {
    const q = real.handles[this.s]?.[this.h];
    if (q === undefined) throw new SpoolError("CLOSED", "no handle");
    return q;
  }

  abstract toString(): string;
}

/**
 * Whether the queue holds a job that is dead by the contract (ttl expired: 4; lease lapsed on
 * its last attempt: N1) but that the store may still show live, with that defect open: retry
 * and purge do not see such a job yet.
 */
function lazyDeath(m: Model, queue: string): boolean {
  for (const j of m.inQueue(queue)) {
    if (j.stale === null || j.rec.state === "pending" || j.rec.state === "reserved") continue;
    if (j.cause !== null && isOpen(j.cause)) return true;
  }
  return false;
}

export class Retry extends QueueCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    readonly refs: number[] | null,
  ) {
    super(ctx, s, h);
  }

  ids(m: Model): number[] | null {
    return this.refs === null ? null : [...new Set(this.refs.map((r) => jobRef(m, r)))].sort((a, b) => a - b);
  }

  override check(m: Readonly<Model>): boolean {
    if (lazyDeath(m as Model, this.spec().queue)) return false;
    // N5: a dead job whose key the store may have dropped retries even while its key is live.
    const jobs = (m as Model).inQueue(this.spec().queue);
    if (isOpen("N5") && jobs.some((j) => j.rec.state === "dead" && j.rec.keyLost)) return false;
    // Which of two dead jobs sharing a key moves depends on which the store shows dead: open.
    return !(m as Model)
      .inQueue(this.spec().queue)
      .some(
        (j) => j.rec.state === "dead" && j.stale !== null && j.stale.state !== "dead" && j.rec.key !== null,
      );
  }

  call(m: Model, real: Real): Promise<unknown> {
    const ids = this.ids(m);
    return ids === null ? this.q(real).retry() : this.q(real).retry(ids);
  }

  verify(m: Model, value: unknown, what: string): void {
    const moved = m.retryPlan(this.spec().queue, this.ids(m));
    count(`Retry moved ${Math.min(moved.length, 2)}`);
    // A job the store may not show dead yet may not move; keyed ones never reach here unsure.
    const unsure = moved.filter((j) => j.stale !== null && j.stale.state !== "dead");
    if (typeof value !== "number" || value < moved.length - unsure.length || value > moved.length)
      fail(`${what}: expected ${moved.length} moved [${moved.map((j) => j.id)}], got ${show(value)}`);
    for (const j of moved) {
      const stale = unsure.includes(j) && value < moved.length ? j.stale : null;
      j.rec = {
        ...j.rec,
        state: "pending",
        attempts: 0,
        runAt: m.span(0),
        finishedAt: null,
        expiresAt: null,
        leaseUntil: null,
      };
      j.ttlDeadline = null;
      j.stale = stale;
    }
  }

  toString(): string {
    return `s${this.s}.h${this.h}.retry(${this.refs === null ? "" : `[${this.refs.map((r) => `id#${r}`)}]`})`;
  }
}

export class Remove extends QueueCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    readonly ref: number,
  ) {
    super(ctx, s, h);
  }

  call(m: Model, real: Real): Promise<unknown> {
    return this.q(real).remove(jobRef(m, this.ref));
  }

  verify(m: Model, value: unknown, what: string): void {
    const id = jobRef(m, this.ref);
    const allowed = recsIn(m, this.spec().queue, id).map((r) => r !== null);
    if (!allowed.includes(value as boolean))
      fail(`${what} on job ${id}: expected ${allowed.join(" or ")}, got ${show(value)}`);
    if (m.jobs.get(id)?.queue === this.spec().queue) m.forget(id);
  }

  toString(): string {
    return `s${this.s}.h${this.h}.remove(id#${this.ref})`;
  }
}

export class Purge extends QueueCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    readonly state: "completed" | "dead",
    readonly olderThan: number | undefined,
  ) {
    super(ctx, s, h);
  }

  private purged(m: Model, r: Rec): boolean | null {
    if (r.state !== this.state || r.finishedAt === null) return false;
    const before = m.now - (this.olderThan ?? 0);
    const hi = Math.min(r.finishedAt.hi, m.now);
    if (hi <= before) return true;
    if (r.finishedAt.lo > before) return false;
    return null;
  }

  override check(m: Readonly<Model>): boolean {
    if (this.state === "dead" && lazyDeath(m as Model, this.spec().queue)) return false;
    for (const j of (m as Model).inQueue(this.spec().queue)) {
      for (const r of (m as Model).options(j)) if (this.purged(m as Model, r) === null) return false;
    }
    return true;
  }

  call(_m: Model, real: Real): Promise<unknown> {
    return this.q(real).purge(
      this.olderThan === undefined ? { state: this.state } : { state: this.state, olderThan: this.olderThan },
    );
  }

  verify(m: Model, value: unknown, what: string): void {
    let min = 0;
    let max = 0;
    for (const j of m.inQueue(this.spec().queue)) {
      const p = m.options(j).map((r) => this.purged(m, r) === true);
      min += p.every(Boolean) ? 1 : 0;
      max += p.some(Boolean) ? 1 : 0;
      const gone = (r: Rec): Rec => (this.purged(m, r) ? { ...r, state: "gone" } : r);
      j.rec = gone(j.rec);
      j.stale = j.stale === null ? null : gone(j.stale);
      if (j.rec.state === "gone" && (j.stale === null || j.stale.state === "gone")) m.forget(j.id);
    }
    if (typeof value !== "number" || value < min || value > max)
      fail(`${what}: expected ${min === max ? min : `${min}..${max}`} purged, got ${show(value)}`);
  }

  toString(): string {
    return `s${this.s}.h${this.h}.purge({ state: "${this.state}"${this.olderThan === undefined ? "" : `, olderThan: ${this.olderThan}`} })`;
  }
}

export class Clear extends QueueCmd {
  call(_m: Model, real: Real): Promise<unknown> {
    return this.q(real).clear();
  }

  verify(m: Model): void {
    for (const j of m.inQueue(this.spec().queue)) m.forget(j.id);
  }

  toString(): string {
    return `s${this.s}.h${this.h}.clear()`;
  }
}

const STATES = ["pending", "delayed", "reserved", "completed", "dead"] as const;

export class List extends QueueCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    readonly state: (typeof STATES)[number],
    readonly limit: number | undefined,
    readonly after: number | undefined,
  ) {
    super(ctx, s, h);
  }

  afterId(m: Model): number | undefined {
    return this.after === undefined
      ? undefined
      : this.after === 0
        ? 0
        : jobRef(m, this.after) % 1_000_000_000;
  }

  call(m: Model, real: Real): Promise<unknown> {
    const o: { state: (typeof STATES)[number]; limit?: number; after?: number } = { state: this.state };
    if (this.limit !== undefined) o.limit = this.limit;
    const after = this.afterId(m);
    if (after !== undefined) o.after = after;
    return this.q(real).list(o);
  }

  verify(m: Model, value: unknown, what: string): void {
    const infos = value as Record<string, unknown>[];
    const limit = this.limit ?? 100;
    const after = this.afterId(m) ?? 0;
    if (!Array.isArray(infos) || infos.length > limit)
      fail(`${what}: expected at most ${limit} jobs, got ${show(value)}`);
    let last = after;
    for (const info of infos) {
      const id = info.id as number;
      if (!(id > last)) fail(`${what}: ids not ascending after ${after}: [${infos.map((i) => i.id)}]`);
      last = id;
      const j = m.jobs.get(id);
      if (j === undefined || j.queue !== this.spec().queue)
        fail(`${what}: listed job ${id}, which the model does not have in this queue`);
      if (info.state !== this.state) fail(`${what}: listed job ${id} in state ${show(info.state)}`);
      m.observe(j, info, this.spec().codec);
    }
    const upTo = infos.length === limit ? last : Number.POSITIVE_INFINITY;
    for (const j of m.inQueue(this.spec().queue)) {
      if (j.id <= after || j.id > upTo) continue;
      const sure = m.options(j).every((r) => m.observed(r) === this.state);
      if (sure && !infos.some((i) => i.id === j.id))
        fail(`${what}: job ${j.id} is ${this.state} but was not listed: [${infos.map((i) => i.id)}]`);
    }
  }

  toString(): string {
    const parts = [`state: "${this.state}"`];
    if (this.limit !== undefined) parts.push(`limit: ${this.limit}`);
    if (this.after !== undefined) parts.push(`after: id#${this.after}`);
    return `s${this.s}.h${this.h}.list({ ${parts.join(", ")} })`;
  }
}

export class Get extends QueueCmd {
  constructor(
    ctx: Ctx,
    s: number,
    h: number,
    readonly ref: number,
  ) {
    super(ctx, s, h);
  }

  call(m: Model, real: Real): Promise<unknown> {
    return this.q(real).get(jobRef(m, this.ref));
  }

  verify(m: Model, value: unknown, what: string): void {
    const id = jobRef(m, this.ref);
    const recs = recsIn(m, this.spec().queue, id);
    if (value === null) {
      if (!recs.includes(null)) fail(`${what}: job ${id} exists but get returned null`);
      if (m.jobs.get(id)?.queue === this.spec().queue) m.forget(id);
      return;
    }
    const j = m.jobs.get(id);
    if (j === undefined || j.queue !== this.spec().queue) fail(`${what}: expected null, got ${show(value)}`);
    m.observe(j, value as Record<string, unknown>, this.spec().codec);
  }

  toString(): string {
    return `s${this.s}.h${this.h}.get(id#${this.ref})`;
  }
}

export class Size extends QueueCmd {
  call(_m: Model, real: Real): Promise<unknown> {
    return this.q(real).size();
  }

  verify(m: Model, value: unknown, what: string): void {
    const v = value as Record<string, number>;
    const tuple = STATES.map((s) => v[s]).join(",");
    const sum = STATES.reduce((a, s) => a + (v[s] ?? 0), 0);
    if (v.total !== sum) fail(`${what}: total ${v.total} is not the sum ${sum}`);
    const possible = m.possibleSizes(this.spec().queue);
    if (!possible.has(tuple))
      fail(
        `${what}: got ${STATES.map((s) => `${s} ${v[s]}`).join(", ")}; possible: ${[...possible].join(" | ")}`,
      );
  }

  toString(): string {
    return `s${this.s}.h${this.h}.size()`;
  }
}

export class Advance implements Cmd {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const now = m.advance(this.ms);
    if (real.clock !== null) real.clock.now = now;
  }

  toString(): string {
    return `clock += ${this.ms}`;
  }
}

export class Close implements Cmd {
  constructor(readonly s: number) {}

  check(m: Readonly<Model>): boolean {
    return m.spoolOpen[this.s] === true;
  }

  async run(m: Model, real: Real): Promise<void> {
    await real.spools[this.s]?.close();
    // Idempotent: a second close resolves too.
    await real.spools[this.s]?.close();
    m.spoolOpen[this.s] = false;
  }

  toString(): string {
    return `s${this.s}.close()`;
  }
}

export class Reopen implements Cmd {
  constructor(readonly s: number) {}

  check(m: Readonly<Model>): boolean {
    return m.spoolOpen[this.s] === false;
  }

  async run(m: Model, real: Real): Promise<void> {
    await openSpool(real, this.s);
    m.spoolOpen[this.s] = true;
    if (!m.opts.persistent) {
      // :memory: keeps nothing once closed: a new store, new ids, no holders.
      m.jobs.clear();
      m.holders = [];
      real.jobs = [];
      m.maxId = 0;
    }
  }

  toString(): string {
    return `s${this.s} = Spool.open(same target)`;
  }
}

// ---- the channel --------------------------------------------------------------------------------

const CHANNEL_SPEC = (ctx: Ctx) => ctx.specs.find((h) => h.queue === CHANNEL) as HandleSpec;

export class Send implements Cmd {
  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly items: PayloadGen[],
    readonly batch: boolean,
    /** SQLite only: sendSync, committed before it returns, QUEUE_FULL at once when full. */
    readonly sync = false,
  ) {}

  check(m: Readonly<Model>): boolean {
    // N3: sendBatch([]) resolves on a closed Spool.
    return !(this.items.length === 0 && closed(m as Model, this.s) && isOpen("N3"));
  }

  async run(m: Model, real: Real): Promise<void> {
    const serials = this.items.map(() => ++m.serial);
    const values = this.items.map((p, i) => payloadValue(p, serials[i] as number));
    const encoded = values.map((v) => encode("json", v));
    const tx = real.chans[this.s]?.[0];
    const o = await outcome(async () => {
      if (tx === undefined) throw new SpoolError("CLOSED", "no channel");
      if (this.sync) return tx.sendSync(values[0]);
      return this.batch ? tx.sendBatch(values, { timeout: 5 }) : tx.send(values[0], { timeout: 5 });
    });
    const what = this.toString();
    const n = values.length;
    let argError: string | null = n > CHANNEL_MAX ? "QUEUE_FULL" : null;
    for (const e of encoded) {
      if (argError !== null) break;
      if (e === "ENCODE") argError = "ENCODE";
      else if (e.bytes.length > (MAX_PAYLOAD[this.s] as number)) argError = "PAYLOAD_TOO_LARGE";
    }
    // Which of a bad argument and a closed Spool is reported first is not specified.
    if (closed(m, this.s))
      return void expectError(o, argError === null ? ["CLOSED"] : ["CLOSED", argError], what);
    if (argError !== null) return void expectError(o, [argError], what);
    if (n === 0) return void expectOk(o, what);
    const { min, max } = m.possibleBacklog(CHANNEL);
    if (min + n > CHANNEL_MAX) return void expectError(o, ["QUEUE_FULL"], what);
    if (max + n > CHANNEL_MAX && !o.ok && o.code === "QUEUE_FULL") return;
    expectOk(o, what);
    // send returns no ids: the channel's queue lists the new items, in order.
    const q = real.handles[this.s]?.[this.ctx.specs.indexOf(CHANNEL_SPEC(this.ctx))];
    const listed = (await q?.list({ state: "pending", after: m.maxId })) ?? [];
    if (listed.length !== n)
      fail(`${what}: the channel's queue lists ${listed.length} new items, expected ${n}`);
    listed.forEach((info, i) => {
      const e = encoded[i] as { bytes: Buffer; format: 0 | 1 };
      const j = m.addJob(m.newId(info.id), CHANNEL, serials[i] as number, e, {
        priority: 0,
        maxAttempts: 3,
        backoff: null,
        key: null,
        delay: 0,
        runAt: null,
        ttl: null,
      });
      m.observe(j, info as unknown as Record<string, unknown>, "default");
    });
  }

  toString(): string {
    if (this.sync) return `s${this.s}.tx.sendSync(${show(this.items[0])})`;
    return this.batch
      ? `s${this.s}.tx.sendBatch([${this.items.map(show).join(", ")}], { timeout: 5 })`
      : `s${this.s}.tx.send(${show(this.items[0])}, { timeout: 5 })`;
  }
}

export class Recv implements Cmd {
  constructor(
    readonly ctx: Ctx,
    readonly s: number,
    readonly limit: number | null,
  ) {}

  check(m: Readonly<Model>): boolean {
    if (closed(m as Model, this.s)) return true;
    // N6: a receive buries a job that started once as expired when its ttl deadline has passed.
    if (isOpen("N6") && this.ctx.exactTime) {
      const started = (m as Model)
        .inQueue(CHANNEL)
        .some((j) => j.rec.attempts === 1 && j.ttlDeadline !== null && j.ttlDeadline.lo <= m.now);
      if (started) return false;
    }
    if (!isOpen("N2")) return true;
    // N2: a refused receive restores the good items without lastError and ttl.
    const jobs = (m as Model).inQueue(CHANNEL);
    const anyBad = jobs.some(
      (j) =>
        !("value" in decode("json", j.bytes, j.format)) &&
        (m as Model).options(j).some((r) => (m as Model).claimable(r)),
    );
    const anyMarked = jobs.some((j) =>
      (m as Model).options(j).some((r) => r.lastError !== null || r.expiresAt !== null),
    );
    return !(anyBad && anyMarked);
  }

  async run(m: Model, real: Real): Promise<void> {
    const rx = real.chans[this.s]?.[1];
    const o = await outcome(async () => {
      if (rx === undefined) throw new SpoolError("CLOSED", "no channel");
      if (this.limit === null) {
        const item = await rx.recv();
        return item === undefined ? [] : [item];
      }
      return rx.recvBatch(this.limit);
    });
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    const taken = checkClaim(m, CHANNEL, this.limit ?? 1, "json", o, what, true);
    for (const [j, item] of taken) {
      const d = decode("json", j.bytes, j.format);
      if (!("value" in d) || show(d.value) !== show(item))
        fail(`${what}: item ${show(item)} is not job ${j.id}'s`);
      m.forget(j.id);
    }
  }

  toString(): string {
    return this.limit === null ? `s${this.s}.rx.recv()` : `s${this.s}.rx.recvBatch(${this.limit})`;
  }
}

export class Len implements Cmd {
  constructor(
    readonly s: number,
    readonly end: 0 | 1,
    readonly empty: boolean,
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const end = real.chans[this.s]?.[this.end];
    const o = await outcome(async () => {
      if (end === undefined) throw new SpoolError("CLOSED", "no channel");
      return this.empty ? end.isEmpty() : end.len();
    });
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    const got = expectOk(o, what);
    const { min, max } = m.possibleBacklog(CHANNEL);
    if (this.empty) {
      if ((got && min > 0) || (!got && max === 0)) fail(`${what}: got ${got} with ${min}..${max} items`);
    } else if ((got as number) < min || (got as number) > max)
      fail(`${what}: expected ${min === max ? min : `${min}..${max}`}, got ${got}`);
  }

  toString(): string {
    return `s${this.s}.${this.end === 0 ? "tx" : "rx"}.${this.empty ? "isEmpty" : "len"}()`;
  }
}

/** spool.queues(): the names that hold jobs. */
export class Queues implements Cmd {
  constructor(readonly s: number) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const spool = real.spools[this.s];
    const o = await outcome(async () => {
      if (spool === undefined || spool === null) throw new SpoolError("CLOSED", "no spool");
      return spool.queues();
    });
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    const names = expectOk(o, what);
    const all = [...new Set(m.ctxQueues)];
    for (const q of all) {
      const jobs = m.inQueue(q);
      const surely = jobs.some((j) => m.options(j).every((r) => r.state !== "gone"));
      const maybe = jobs.some((j) => m.options(j).some((r) => r.state !== "gone"));
      if (surely && !names.includes(q)) fail(`${what}: ${show(names)} leaves out "${q}", which holds jobs`);
      if (!maybe && names.includes(q)) fail(`${what}: ${show(names)} names "${q}", which holds no job`);
    }
    for (const n of names) if (!all.includes(n)) fail(`${what}: names unknown queue ${show(n)}`);
  }

  toString(): string {
    return `s${this.s}.queues()`;
  }
}

export class ChanClear implements Cmd {
  constructor(readonly s: number) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, real: Real): Promise<void> {
    const rx = real.chans[this.s]?.[1];
    const o = await outcome(async () => {
      if (rx === undefined) throw new SpoolError("CLOSED", "no channel");
      return rx.clear();
    });
    const what = this.toString();
    if (closed(m, this.s)) return void expectError(o, ["CLOSED"], what);
    expectOk(o, what);
    // Every item not yet received goes; dead letters stay.
    for (const j of m.inQueue(CHANNEL)) {
      const keep = (r: Rec): Rec => (r.state === "dead" ? r : { ...r, state: "gone" });
      j.rec = keep(j.rec);
      j.stale = j.stale === null ? null : keep(j.stale);
      if (j.rec.state === "gone" && (j.stale === null || j.stale.state === "gone")) m.forget(j.id);
    }
  }

  toString(): string {
    return `s${this.s}.rx.clear()`;
  }
}

// ---- the command arbitraries ----------------------------------------------------------------------

export function commandArbs(ctx: Ctx): fc.Arbitrary<Cmd>[] {
  const s = fc.nat(ctx.spools - 1);
  // Most commands go to queue "a" (handles 0–2): jobs meet each other there more often.
  const h = fc.oneof(
    { weight: 3, arbitrary: fc.nat(2) },
    { weight: 2, arbitrary: fc.nat(ctx.specs.length - 1) },
  );
  const { dur, pos } = durations(ctx);
  const ref: fc.Arbitrary<Ref> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(3) }, fc.nat(20))
        .map((holder) => ({ holder })),
    },
    { weight: 1, arbitrary: fc.nat(20).map((id) => ({ id })) },
  );
  const errorArb: fc.Arbitrary<ErrorGen> = fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({ kind: fc.constantFrom("error" as const, "string" as const), text: errorChars }),
  );
  const retryIn = fc.option(dur, { nil: undefined, freq: 2 });
  const same = fc.oneof(
    { weight: 5, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  );
  const arbs: { weight: number; arbitrary: fc.Arbitrary<Cmd> }[] = [
    {
      weight: 16,
      arbitrary: fc
        .tuple(s, h, payloadArb, optsArb(ctx), fc.boolean())
        .map(
          ([s, h, p, o, mut]) => new Add(ctx, s, h, [p], false, o, mut && !isOpen("2") && p.kind === "buf"),
        ),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(s, h, fc.array(payloadArb, { maxLength: 4 }), optsArb(ctx), fc.boolean())
        .map(([s, h, ps, o, mut]) => new Add(ctx, s, h, ps, true, o, mut && !isOpen("2"))),
    },
    {
      weight: 14,
      arbitrary: fc
        .tuple(
          s,
          h,
          fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
          fc.option(pos, { nil: undefined }),
        )
        .map(([s, h, n, l]) => new Reserve(ctx, s, h, n, l)),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(s, h, ref, same, fc.option(payloadArb, { nil: null }))
        .map(([s, h, r, sq, res]) => new Complete(ctx, s, h, r, sq, res)),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(s, h, ref, same, errorArb, retryIn)
        .map(([s, h, r, sq, e, ri]) => new Fail(ctx, s, h, r, sq, e, ri)),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(s, h, ref, same, pos).map(([s, h, r, sq, ms]) => new Extend(ctx, s, h, r, sq, ms)),
    },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          s,
          h,
          fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, fc.array(fc.nat(6), { maxLength: 3 })),
        )
        .map(([s, h, ids]) => new Retry(ctx, s, h, ids)),
    },
    { weight: 1, arbitrary: fc.tuple(s, h, fc.nat(8)).map(([s, h, r]) => new Remove(ctx, s, h, r)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          s,
          h,
          fc.constantFrom("completed" as const, "dead" as const),
          fc.option(dur, { nil: undefined }),
        )
        .map(([s, h, st, ot]) => new Purge(ctx, s, h, st, ot)),
    },
    { weight: 1, arbitrary: fc.tuple(s, h).map(([s, h]) => new Clear(ctx, s, h)) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          s,
          h,
          fc.constantFrom(...STATES),
          fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
          fc.option(fc.nat(20), { nil: undefined }),
        )
        .map(([s, h, st, l, a]) => new List(ctx, s, h, st, l, a)),
    },
    { weight: 4, arbitrary: fc.tuple(s, h, fc.nat(8)).map(([s, h, r]) => new Get(ctx, s, h, r)) },
    { weight: 4, arbitrary: fc.tuple(s, h).map(([s, h]) => new Size(ctx, s, h)) },
    { weight: 1, arbitrary: s.map((s) => new Close(s)) },
    { weight: 3, arbitrary: s.map((s) => new Reopen(s)) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(s, fc.array(payloadArb, { minLength: 1, maxLength: 1 }), fc.boolean(), fc.nat(3))
        .chain(([s, one, batch, sync]) =>
          batch
            ? fc.array(payloadArb, { maxLength: 6 }).map((items) => new Send(ctx, s, items, true))
            : fc.constant(new Send(ctx, s, one, false, ctx.exactTime && sync === 0)),
        ),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(s, fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }))
        .map(([s, n]) => new Recv(ctx, s, n)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(s, fc.constantFrom(0 as const, 1 as const), fc.boolean())
        .map(([s, e, empty]) => new Len(s, e, empty)),
    },
    {
      weight: 1,
      arbitrary: s.map((s) => new Queues(s)),
    },
    { weight: 1, arbitrary: s.map((s) => new ChanClear(s)) },
  ];
  if (ctx.exactTime) {
    arbs.push({
      weight: 10,
      arbitrary: fc
        .oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 51, max: 3000 }))
        .map((ms) => new Advance(ms)),
    });
  }
  // fc.commands picks among its arbitraries evenly: a weight is that many entries.
  return arbs.flatMap(({ weight, arbitrary }) =>
    Array.from({ length: weight }, () => arbitrary.map((c): Cmd => new Settled(c, ctx.exactTime))),
  );
}

/** Runs a command, then applies what time means to the model (on a real clock, reads it first). */
export class Settled implements Cmd {
  constructor(
    readonly inner: Cmd,
    readonly exactTime: boolean,
  ) {}

  check(m: Readonly<Model>): boolean {
    const ok = this.inner.check(m);
    if (!ok) count(`${this.inner.constructor.name} skipped`);
    return ok;
  }

  async run(m: Model, real: Real): Promise<void> {
    if (!this.exactTime) m.now = Date.now();
    current = this.inner.constructor.name;
    count("~ commands run");
    await this.inner.run(m, real);
    m.settleTime();
  }

  toString(): string {
    return this.inner.toString();
  }
}

export { DEFAULT_BACKOFF };
