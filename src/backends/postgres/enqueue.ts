/*
 * Adding jobs on PostgreSQL, for the backend's `enqueue`: the bound values of ENQUEUE and
 * ENQUEUE_PLAIN, and the transaction of an add with keys or a bound (a channel's send).
 */
import type { NewJob } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import { hasDependencies, linkDependencies, lockDependencies } from "./dependencies.js";
import type { PayloadEncoding, Row, Values } from "./pool.js";
import type { QueryName } from "./queries.js";
import { asBuffer, num } from "./rows.js";

/** Thrown inside a transaction to have it run again (SQLSTATE serialization_failure). */
class RunAgain extends Error {
  readonly code = "40001";
}

/**
 * The most payload bytes one add sends. As bytes: PostgreSQL refuses a message of 1 GiB or more
 * (the other parameters need room too). As hex text: twice as many characters, and a V8 string
 * holds at most 2^29 - 24.
 */
const MAX_BATCH_BYTES = { binary: 2 ** 30 - 2 ** 20, text: 2 ** 28 - 2 ** 20 } as const;

/**
 * The payloads of a batch as one bytea and where each starts (1-based) and how long it is.
 * `pg` sends a Buffer parameter as binary, but an array of Buffers as text, each element in
 * hex: twice the bytes to encode, send and decode (a 1 MB add spent more time in the hex than
 * in the insert). One job's payload goes as it is, without a copy.
 */
function payloadValues(
  jobs: readonly NewJob[],
  encoding: PayloadEncoding,
): [Buffer | string, number[], number[]] {
  const bodies = jobs.map((j) => asBuffer(j.payload));
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  for (const body of bodies) {
    starts.push(at);
    lengths.push(body.length);
    at += body.length;
  }
  const total = at - 1;
  const limit = MAX_BATCH_BYTES[encoding];
  if (total > limit) {
    throw new SpoolError(
      "PAYLOAD_TOO_LARGE",
      `the ${jobs.length} payloads of this add total ${total} bytes; PostgreSQL takes at most ${limit} in one statement (${encoding === "binary" ? "sent as bytes" : "sent as hex text on this client"}): add them in smaller batches`,
    );
  }
  const all = bodies.length === 1 ? (bodies[0] as Buffer) : Buffer.concat(bodies, total);
  return [encoding === "binary" ? all : `\\x${all.toString("hex")}`, starts, lengths];
}

/**
 * ENQUEUE's and ENQUEUE_PLAIN's values: $1 queue, $2 channel, $3 the payloads (payloadValues),
 * then one array per column, then the payloads' starts and lengths.
 */
export function enqueueValues(
  queue: string,
  channel: string,
  jobs: readonly NewJob[],
  grouped: boolean,
  encoding: PayloadEncoding,
): Values {
  const [bodies, starts, lengths] = payloadValues(jobs, encoding);
  return [
    queue,
    channel,
    bodies,
    jobs.map((j) => j.format),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.key),
    jobs.map((j) => j.backoff),
    jobs.map((j) => j.delayMs),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.ttlMs),
    // Untraced adds (the rule) bind one NULL array: unnest pads the column with NULLs; so do
    // ungrouped ones.
    jobs.some((j) => j.trace != null) ? jobs.map((j) => j.trace ?? null) : null,
    grouped ? jobs.map((j) => j.group ?? null) : null,
    starts,
    lengths,
  ];
}

interface KeyedAdd {
  queue: string;
  schema: string;
  jobs: NewJob[];
  values: Values;
  maxSize: number | undefined;
  inserted: boolean[] | undefined;
}

/**
 * The body of an add's transaction when it has keys, a bound or dependencies: see
 * Backend.enqueue. The rows a batch depends on are locked before anything is written (NOT_FOUND
 * when one is not a job); its jobs are linked to them once inserted (dependencies.ts).
 */
export async function insertKeyed(
  run: (name: QueryName, values: Values) => Promise<Row[]>,
  { queue, schema, jobs, values, maxSize, inserted }: KeyedAdd,
): Promise<number[] | null> {
  if (maxSize !== undefined) {
    await run("LOCK_QUEUE", [schema, queue]);
    const held = num((await run("BACKLOG", [queue]))[0]?.n ?? 0);
    if (held + jobs.length > maxSize) return null;
  }
  const linked = hasDependencies(jobs);
  if (linked) await lockDependencies(run, jobs);
  const keys = [...new Set(jobs.flatMap((j) => (j.key === null ? [] : [j.key])))];
  if (keys.length === 0 && linked) {
    // No key can conflict: the plain insert, every job inserted.
    const ids = (await run("ENQUEUE_PLAIN", values)).map((r) => num(r.id));
    const all = jobs.map(() => true);
    await linkDependencies(run, jobs, ids, all);
    if (inserted !== undefined) for (let i = 0; i < jobs.length; i++) inserted[i] = true;
    return ids;
  }
  if (keys.length > 0) await run("RESCUE_KEYED", [queue, keys]);
  const rows = await run("ENQUEUE", values);
  // Keys: the first inserted row of a key gives its id to later repeats in the batch; a key
  // that was already live resolves to the job holding it.
  const byKey = new Map<string, number>();
  for (const r of rows)
    if (r.inserted && r.key !== null && !byKey.has(String(r.key))) byKey.set(String(r.key), num(r.id));
  const missing = [
    ...new Set(rows.filter((r) => !r.inserted && !byKey.has(String(r.key))).map((r) => String(r.key))),
  ];
  if (missing.length > 0) {
    for (const r of await run("FIND_KEYED", [queue, missing])) byKey.set(String(r.key), num(r.id));
    // The live holder finished between our insert and the look-up: do it all again.
    if (missing.some((k) => !byKey.has(k))) throw new RunAgain("a deduplicated job finished meanwhile");
  }
  if (inserted !== undefined) for (const [i, r] of rows.entries()) inserted[i] = Boolean(r.inserted);
  const ids = rows.map((r) => (r.inserted ? num(r.id) : (byKey.get(String(r.key)) as number)));
  if (linked) {
    const links = rows.map((r) => Boolean(r.inserted));
    await linkDependencies(run, jobs, ids, links);
  }
  return ids;
}
