/*
 * The real system the model is compared with: one or two Spools on one store, the queue handles
 * every command may use (the same specs on each Spool), a channel, and the Jobs held so far.
 */

import type { Receiver, Sender } from "../../src/channel.js";
import { Spool } from "../../src/index.js";
import type { Queue } from "../../src/queue.js";
import type { Job, SpoolOptions } from "../../src/types.js";
import type { CodecName, HandleSpec } from "./model.js";

/** Long enough that automatic retention never runs inside a test (the model does not time it). */
export const FOREVER = 10 * 365 * 24 * 3_600_000;
/** On PostgreSQL (the server's clock) every duration is 0 or at least this far from a boundary. */
export const FAR = 2 * 3_600_000;
export const CHANNEL = "c";
export const CHANNEL_MAX = 4;
/** maxPayloadBytes of each Spool (index = spool). */
export const MAX_PAYLOAD = [2048, 64 * 1024 * 1024];

/** The handles of every Spool: a few queues, each with several handles of different defaults. */
export function handleSpecs(exactTime: boolean): HandleSpec[] {
  const d = (ms: number) => (exactTime ? ms : ms === 0 ? 0 : FAR);
  const base = {
    codec: "default" as CodecName,
    priority: 0,
    maxAttempts: 3,
    backoff: null,
    backoffFn: null,
    ttl: null,
    delay: 0,
    lease: d(30_000),
    keepCompleted: true,
  };
  return [
    // 0: the plain handle (on PostgreSQL with a long stored backoff: the default one is 1 s).
    {
      ...base,
      queue: "a",
      backoff: exactTime ? null : JSON.stringify({ type: "exponential", delay: FAR, max: 3_600_000 * 24 }),
    },
    // 1: defaults stored on each job; it states "delete on completion", but retention is the
    //    queue's, stored: handle 2, stated later, keeps completed jobs for queue "a".
    {
      ...base,
      queue: "a",
      priority: 2,
      maxAttempts: 2,
      backoff: JSON.stringify({ type: "fixed", delay: d(50) }),
      lease: d(40),
      keepCompleted: false,
    },
    // 2: the JSON codec and a function backoff.
    {
      ...base,
      queue: "a",
      codec: "json",
      maxAttempts: 4,
      backoffFn: exactTime ? (attempt: number) => attempt * 7 : (attempt: number) => attempt * FAR,
      lease: d(100),
    },
    // 3: a ttl and a single attempt.
    { ...base, queue: "b", ttl: d(30), maxAttempts: 1, lease: d(20) },
    // 4: the binary codec, a default delay and a stored exponential backoff.
    {
      ...base,
      queue: "b",
      codec: "binary",
      delay: d(10),
      backoff: JSON.stringify({ type: "exponential", delay: d(5), max: d(40) }),
    },
    // 5: the channel's queue.
    { ...base, queue: CHANNEL },
  ];
}

export function queueOptions(h: HandleSpec): Record<string, unknown> {
  const o: Record<string, unknown> = {
    lease: h.lease,
    retention: { completed: h.keepCompleted ? FOREVER : 0, dead: FOREVER },
  };
  if (h.codec !== "default") o.codec = h.codec;
  if (h.priority !== 0) o.priority = h.priority;
  if (h.maxAttempts !== 3) o.maxAttempts = h.maxAttempts;
  if (h.backoffFn !== null) o.backoff = h.backoffFn;
  else if (h.backoff !== null) o.backoff = JSON.parse(h.backoff);
  if (h.ttl !== null) o.ttl = h.ttl;
  if (h.delay !== 0) o.delay = h.delay;
  return o;
}

export interface Real {
  target: string;
  options: SpoolOptions;
  /** The controlled clock (SQLite), or null (PostgreSQL: the server's clock). */
  clock: { now: number } | null;
  specs: HandleSpec[];
  spools: (Spool | null)[];
  handles: Queue<unknown>[][];
  chans: ([Sender<unknown>, Receiver<unknown>] | null)[];
  /** The Jobs reserve handed out, parallel to the model's holders. */
  jobs: Job<unknown>[];
}

export async function openSpool(real: Real, s: number): Promise<void> {
  const clock = real.clock;
  const options: SpoolOptions & { clock?: () => number } = {
    ...real.options,
    maxPayloadBytes: MAX_PAYLOAD[s] as number,
  };
  if (clock !== null) options.clock = () => clock.now;
  const spool = await Spool.open(real.target, options);
  real.spools[s] = spool;
  // The channel's queue handle first: it states the retention the channel's own handle does not.
  real.handles[s] = real.specs.map((h) => spool.queue(h.queue, queueOptions(h)));
  real.chans[s] = await spool.channel(CHANNEL, { maxSize: CHANNEL_MAX, codec: "json" });
}

export async function closeAll(real: Real): Promise<void> {
  for (const s of real.spools) await s?.close().catch(() => {});
}
