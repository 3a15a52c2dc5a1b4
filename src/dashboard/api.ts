/*
 * The JSON API behind the page. Reads: an overview (counts, oldest pending age, throughput),
 * one page of jobs, one job, the cron schedules. Writes (POST only; the server checks CSRF before it gets here):
 * retry, delete, purge, pause and resume. Everything goes through the public Spool/Queue API.
 */
import type { IncomingMessage } from "node:http";
import { showDependencies } from "../dependency-view.js";
import type { Spool } from "../spool.js";
import { JOB_STATES, type JobState } from "../types.js";
import { HttpError, readJsonObject } from "./http.js";
import { type JobRow, MAX_DEPENDENCIES, PREVIEW_BYTES, toDetail, toPreviewRow } from "./jobs.js";
import { existingQueue, limitsOf, oldestPendingAgeOf, sizeOf } from "./queues.js";
import { listSchedules } from "./schedules.js";
import type { ThroughputSampler } from "./throughput.js";

export interface ApiContext {
  spool: Spool;
  sampler: ThroughputSampler;
}

const DEFAULT_PAGE = 25;
const MAX_PAGE = 200;

/** Answers one API request: `path` is what follows "api/", already split on "/". */
export async function handleApi(
  ctx: ApiContext,
  req: IncomingMessage,
  path: string[],
  query: URLSearchParams,
): Promise<unknown> {
  const method = req.method ?? "GET";
  const [head, name, sub, id, action] = path;
  if (head === "overview" && path.length === 1) {
    allow(method, "GET");
    return overview(ctx, query.get("queue"));
  }
  if (head === "schedules" && path.length === 1) {
    allow(method, "GET");
    return listSchedules(ctx.spool);
  }
  if (head !== "queues" || name === undefined) throw new HttpError(404, "no such API endpoint");
  const queueName = decodeSegment(name);
  if (sub === "jobs" && path.length === 3) {
    allow(method, "GET");
    return listJobs(ctx, queueName, query);
  }
  if (sub === "jobs" && id !== undefined && path.length === 4) {
    allow(method, "GET");
    const jobId = parseId(id);
    const job = await (await existingQueue(ctx.spool, queueName)).get(jobId);
    if (job === null) throw new HttpError(404, `job ${jobId} is not in queue ${queueName}`);
    // The first MAX_DEPENDENCIES with their queue and state, the rest counted: bounded however
    // many the job depends on.
    const deps =
      job.dependsOn === undefined
        ? null
        : await showDependencies(ctx.spool, queueName, jobId, MAX_DEPENDENCIES);
    return toDetail(job, deps);
  }
  if (sub === "jobs" && id !== undefined && action === "delete" && path.length === 5) {
    allow(method, "POST");
    const jobId = parseId(id);
    return { removed: await (await existingQueue(ctx.spool, queueName)).remove(jobId) };
  }
  if (sub === "retry" && path.length === 3) {
    allow(method, "POST");
    const ids = retryTarget(await readJsonObject(req));
    return { moved: await (await existingQueue(ctx.spool, queueName)).retry(ids) };
  }
  if ((sub === "pause" || sub === "resume") && path.length === 3) {
    allow(method, "POST");
    // The body says nothing more than the path, but must still be a JSON object (as every write's).
    await readJsonObject(req);
    const queue = await existingQueue(ctx.spool, queueName);
    await (sub === "pause" ? queue.pause() : queue.resume());
    return { paused: sub === "pause" };
  }
  if (sub === "purge" && path.length === 3) {
    allow(method, "POST");
    const body = await readJsonObject(req);
    if (body.state !== "completed" && body.state !== "dead") {
      throw new HttpError(400, 'state must be "completed" or "dead"');
    }
    // The body goes to Queue.purge whole, so it is read exactly as the library reads it:
    // `olderThan` (ms) is honoured, and any key it does not know (a typo such as "older") is
    // INVALID_ARGUMENT, answered 400 before anything is deleted, never dropped to purge more.
    const options = body as { state: "completed" | "dead"; olderThan?: number };
    return { deleted: await (await existingQueue(ctx.spool, queueName)).purge(options) };
  }
  throw new HttpError(404, "no such API endpoint");
}

/** Reads never change anything and writes are never GETs (a link or an <img> must not purge). */
function allow(method: string, expected: "GET" | "POST"): void {
  if (method === expected || (expected === "GET" && method === "HEAD")) return;
  throw new HttpError(405, `use ${expected} here`, { Allow: expected === "GET" ? "GET, HEAD" : "POST" });
}

/**
 * Which dead jobs a retry moves: `{"ids": [...]}` those, `{"all": true}` every one. A body
 * that says neither (`{}`, `{"id": 1}`, a typo) acts on nothing: it is refused, never read as "all".
 */
function retryTarget(body: Record<string, unknown>): number[] | undefined {
  const { ids, all } = body;
  if (all !== undefined && all !== true) throw new HttpError(400, "all must be true when given");
  if (all === true && ids !== undefined) throw new HttpError(400, 'give "ids" or "all": true, not both');
  if (all === true) return undefined;
  if (ids === undefined) {
    throw new HttpError(400, 'say which dead jobs to retry: {"ids": [1, 2]} or {"all": true}');
  }
  if (!Array.isArray(ids) || !ids.every((x) => Number.isSafeInteger(x) && (x as number) > 0)) {
    throw new HttpError(400, "ids must be an array of job ids (positive integers)");
  }
  return ids as number[];
}

/** An integer query parameter in [min, max], or `fallback` when absent; anything else is 400. */
function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = query.get(name);
  if (text === null || text === "") return fallback;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(
      400,
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 20))}`,
    );
  }
  return n;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "malformed queue name in the URL");
  }
}

function parseId(text: string): number {
  const id = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(id) || id < 1) {
    throw new HttpError(400, `job id must be a positive integer, got ${JSON.stringify(text.slice(0, 20))}`);
  }
  return id;
}

async function overview(ctx: ApiContext, chartQueue: string | null): Promise<unknown> {
  ctx.sampler.touch();
  const names = (await ctx.spool.queues()).sort();
  const queues = await Promise.all(
    names.map(async (name) => {
      const [size, oldestPendingAge, limits] = await Promise.all([
        sizeOf(ctx.spool, name),
        oldestPendingAgeOf(ctx.spool, name),
        limitsOf(ctx.spool, name),
      ]);
      return { name, size, oldestPendingAge, rate: ctx.sampler.recentRate(name), limits };
    }),
  );
  const chosen = chartQueue !== null && names.includes(chartQueue) ? chartQueue : null;
  return {
    // Spool.target has its passwords replaced already (src/redact.ts).
    target: ctx.spool.target,
    kind: ctx.spool.kind,
    now: Date.now(),
    queues,
    throughput: { queue: chosen, ...ctx.sampler.series(chosen) },
  };
}

async function listJobs(
  ctx: ApiContext,
  queueName: string,
  query: URLSearchParams,
): Promise<{ jobs: JobRow[]; next: number | null }> {
  const state = query.get("state") ?? "pending";
  if (!JOB_STATES.includes(state as JobState)) {
    throw new HttpError(400, `state must be one of ${JOB_STATES.join(", ")}`);
  }
  const limit = intParam(query, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
  const after = intParam(query, "after", 0, 0, Number.MAX_SAFE_INTEGER);
  const queue = await existingQueue(ctx.spool, queueName);
  // One extra row tells whether a next page exists without a second query; payloads and errors
  // are cut by the store's query, so a page of huge jobs costs what a page of small ones does.
  const jobs = await queue.listPreviews({ state: state as JobState, limit: limit + 1, after }, PREVIEW_BYTES);
  const page = jobs.slice(0, limit).map(toPreviewRow);
  const last = page[page.length - 1];
  return { jobs: page, next: jobs.length > limit && last !== undefined ? last.id : null };
}
