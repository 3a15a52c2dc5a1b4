// Adding jobs to a queue: options over the queue's defaults, the payload schema, the codec, and
// where the add runs (Spool's store, the caller's PostgreSQL client, or synchronously on SQLite).
// Everything is checked and encoded before anything is written.
import { type ResolvedAdd, resolveAdd } from "./add-options.js";
import type { NewJob } from "./backend.js";
import type { PayloadCodec } from "./codec.js";
import type { SpoolContext } from "./context.js";
import { SpoolError, show } from "./errors.js";
import type { HeldJobs } from "./held.js";
import { type PayloadSchema, validatePayloads } from "./schema.js";
import { checkClient } from "./sql-client.js";
import type { AddCallOptions, AddOptions } from "./types.js";

/** An add's options without `client`, which is where the add runs, not how the job is stored. */
function splitClient(options: AddCallOptions | undefined): { client: unknown; add: AddOptions | undefined } {
  if (typeof options !== "object" || options === null || !("client" in options))
    return { client: undefined, add: options };
  const { client, ...add } = options;
  return { client: client === undefined ? undefined : client, add };
}

export class Adder<T, In> {
  constructor(
    private readonly ctx: SpoolContext,
    private readonly name: string,
    private readonly codec: PayloadCodec<T>,
    private readonly held: HeldJobs<T>,
    private readonly defaults: ResolvedAdd,
    private readonly schema: PayloadSchema | null,
  ) {}

  /** Adds one job; resolves with its id once committed (or the id of a job with the same key). */
  async add(payload: In, options?: AddCallOptions): Promise<number> {
    const { client, add } = splitClient(options);
    const checked = this.validated([payload]);
    const [id] = await this.insert(
      checked instanceof Promise ? await checked : checked,
      add,
      undefined,
      client,
    );
    return id as number;
  }

  /** Adds every payload in one transaction: all are added or none. */
  async addBatch(payloads: readonly In[], options?: AddCallOptions): Promise<number[]> {
    const { client, add } = splitClient(options);
    if (!Array.isArray(payloads)) {
      throw new SpoolError("INVALID_ARGUMENT", `addBatch takes an array of payloads, got ${show(payloads)}`);
    }
    if (payloads.length === 0) {
      // Nothing to add, but the call is still checked (as add checks it: CLOSED first).
      this.ctx.assertOpen();
      resolveAdd(this.defaults, add);
      if (client !== undefined) this.clientAdder(client);
      return [];
    }
    const checked = this.validated(payloads);
    return this.insert(checked instanceof Promise ? await checked : checked, add, undefined, client);
  }

  /**
   * Adds one job at once, with no promise: for code inside a synchronous better-sqlite3
   * transaction. On a Spool opened on the application's Database, the add runs on that
   * connection and joins its open transaction (committed or rolled back with it); otherwise it
   * commits before returning. SQLite only; blocks the thread while another connection holds the
   * write lock, up to the busy timeout. A schema must answer synchronously here.
   */
  addSync(payload: In, options?: AddOptions): number {
    this.ctx.assertOpen();
    const { backend } = this.ctx;
    if (backend.enqueueSync === undefined) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `addSync needs a SQLite store; this one is ${backend.kind} (on PostgreSQL, add(payload, { client }) joins your transaction)`,
      );
    }
    const checked = this.validated([payload]);
    if (checked instanceof Promise) {
      checked.catch(() => {}); // its outcome is not awaited: the add is refused either way
      throw new SpoolError(
        "INVALID_ARGUMENT",
        "addSync needs a schema that validates synchronously; this one returned a promise",
      );
    }
    const { add, backoffFn } = resolveAdd(this.defaults, options);
    if (backoffFn !== undefined) {
      // Kept in this process's memory by job id: an add the application then rolls back would
      // leave it behind, for whichever later job SQLite gives that id.
      throw new SpoolError(
        "INVALID_ARGUMENT",
        "addSync takes no function backoff (a rolled-back add would leave it to another job); give it as the queue's default, or a stored policy ({ type, delay })",
      );
    }
    const jobs = this.encode(checked, add);
    const inserted: boolean[] = [];
    const enqueueSync = backend.enqueueSync.bind(backend);
    const ids =
      this.ctx.instruments.enqueueSync(this.name, jobs, () =>
        enqueueSync(this.name, jobs, undefined, inserted, true),
      ) ?? [];
    this.held.meter.addedJobs(ids.length, inserted);
    // After the turn: a db.transaction(...) that called this has committed (or rolled back) by
    // then; a transaction held open longer wakes workers by its commit, through the store's
    // change signal.
    setImmediate(() => this.ctx.signal(this.name));
    return ids[0] as number;
  }

  /**
   * The payloads as the queue's schema makes them (each validated, all before anything is
   * written), or as given on a queue without one. Not a promise unless the schema is
   * asynchronous, so the add encodes in the caller's turn (see validatePayloads).
   */
  private validated(payloads: readonly In[]): readonly T[] | Promise<readonly T[]> {
    this.ctx.assertOpen();
    if (this.schema === null) return payloads as unknown as readonly T[];
    return validatePayloads<T>(this.schema, payloads);
  }

  /**
   * The backend's add on the caller's own client (PostgreSQL), or INVALID_ARGUMENT naming the
   * client or why this store cannot use one.
   */
  private clientAdder(client: unknown): (jobs: NewJob[], inserted: boolean[]) => Promise<number[]> {
    const { backend } = this.ctx;
    const enqueueOn = backend.enqueueOn?.bind(backend);
    if (enqueueOn === undefined) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `the client option is for PostgreSQL stores; this one is ${backend.kind} (open Spool on your better-sqlite3 Database and use addSync inside its transaction)`,
      );
    }
    const checked = checkClient(client);
    return (jobs, inserted) => enqueueOn(checked, this.name, jobs, inserted);
  }

  /**
   * @internal shared by add, addBatch and the channel's sender. With `client`, the add runs on
   * that connection inside the caller's transaction, and nobody in this process is woken: the
   * jobs exist only once that transaction commits, and its NOTIFY then wakes every worker.
   */
  async insert(
    payloads: readonly T[],
    options: AddOptions | undefined,
    maxSize?: number,
    client?: unknown,
  ): Promise<number[]> {
    this.ctx.assertOpen();
    const { add, backoffFn } = resolveAdd(this.defaults, options);
    const onClient = client === undefined ? null : this.clientAdder(client);
    const jobs = this.encode(payloads, add);
    // A function backoff belongs to the jobs this add wrote: a key's existing job keeps its own.
    const inserted: boolean[] = [];
    const { backend } = this.ctx;
    const ids = await this.ctx.instruments.enqueue(this.name, jobs, () =>
      onClient === null ? backend.enqueue(this.name, jobs, maxSize, inserted) : onClient(jobs, inserted),
    );
    if (ids === null) return [];
    this.held.meter.addedJobs(ids.length, inserted);
    if (backoffFn !== undefined)
      this.held.remember(
        ids.filter((_, i) => inserted[i]),
        backoffFn,
      );
    if (onClient === null) this.ctx.signal(this.name);
    return ids;
  }

  /**
   * @internal A flow's job (flow.ts): validated by the schema and encoded, not yet written. A
   * per-add function backoff is refused: it would be kept in memory for ids not yet known.
   */
  async prepareChecked(payload: In, options: AddOptions | undefined): Promise<NewJob> {
    const checked = this.validated([payload]);
    const [value] = checked instanceof Promise ? await checked : checked;
    const { add, backoffFn } = resolveAdd(this.defaults, options);
    if (backoffFn !== undefined) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        "a flow's job takes no function backoff; give it as the queue's default, or a stored policy ({ type, delay })",
      );
    }
    return this.encode([value as T], add)[0] as NewJob;
  }

  /** @internal validates and encodes before anything is written. */
  prepare(payloads: readonly T[], options: AddOptions | undefined): NewJob[] {
    return this.encode(payloads, resolveAdd(this.defaults, options).add);
  }

  /**
   * Encodes every payload now, at the call: the codec's bytes are copied, so a Buffer the caller
   * rewrites (or a codec reusing its output) after this returns cannot change what is stored.
   */
  private encode(payloads: readonly T[], o: ResolvedAdd): NewJob[] {
    return payloads.map((payload, index) => {
      const { bytes, format } = this.codec.encode(payload);
      if (bytes.byteLength > this.ctx.maxPayloadBytes) {
        throw new SpoolError(
          "PAYLOAD_TOO_LARGE",
          `payload${payloads.length > 1 ? ` #${index}` : ""} is ${bytes.byteLength} bytes; maxPayloadBytes allows ${this.ctx.maxPayloadBytes}`,
        );
      }
      // Written out, not `...o`: the spread copied key by key through the runtime, about 100 ns
      // a job measured, where a literal is one allocation of a known shape.
      return {
        payload: bytes,
        format,
        priority: o.priority,
        delayMs: o.delayMs,
        runAt: o.runAt,
        maxAttempts: o.maxAttempts,
        backoff: o.backoff,
        key: o.key,
        ttlMs: o.ttlMs,
        group: o.group,
        dependsOn: o.dependsOn,
      } satisfies Required<Omit<NewJob, "trace">>;
    });
  }
}
