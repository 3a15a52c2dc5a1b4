/*
 * The JSON API behind the page. Reads: an overview (counts, oldest pending age, throughput),
 * one page of jobs, one job. Writes (POST only; the server checks CSRF before it gets here):
 * retry, delete, purge. Everything goes through the public Spool/Queue API.
 */
import type { IncomingMessage } from "node:http";
import type { Spool } from "../spool.js";
import { JOB_STATES, type JobState } from "../types.js";
import { HttpError, readJson } from "./http.js";
import { type JobRow, toDetail, toRow } from "./jobs.js";
import { queueHandle } from "./queues.js";
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
  if (head !== "queues" || name === undefined) throw new HttpError(404, "no such API endpoint");
  const queueName = decodeSegment(name);
  if (sub === "jobs" && path.length === 3) {
    allow(method, "GET");
    return listJobs(ctx, queueName, query);
  }
  if (sub === "jobs" && id !== undefined && path.length === 4) {
    allow(method, "GET");
    const job = await queueHandle(ctx.spool, queueName).get(parseId(id));
    if (job === null) throw new HttpError(404, `job ${id} is not in queue ${queueName}`);
    return toDetail(job);
  }
  if (sub === "jobs" && id !== undefined && action === "delete" && path.length === 5) {
    allow(method, "POST");
    return { removed: await queueHandle(ctx.spool, queueName).remove(parseId(id)) };
  }
  if (sub === "retry" && path.length === 3) {
    allow(method, "POST");
    const body = await readJson(req);
    const ids = (body as { ids?: unknown }).ids;
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((x) => Number.isSafeInteger(x)))) {
      throw new HttpError(400, "ids must be an array of job ids");
    }
    return { moved: await queueHandle(ctx.spool, queueName).retry(ids as number[] | undefined) };
  }
  if (sub === "purge" && path.length === 3) {
    allow(method, "POST");
    const { state } = (await readJson(req)) as { state?: unknown };
    if (state !== "completed" && state !== "dead") {
      throw new HttpError(400, 'state must be "completed" or "dead"');
    }
    return { deleted: await queueHandle(ctx.spool, queueName).purge({ state }) };
  }
  throw new HttpError(404, "no such API endpoint");
}

/** Reads never change anything and writes are never GETs (a link or an <img> must not purge). */
function allow(method: string, expected: "GET" | "POST"): void {
  if (method === expected || (expected === "GET" && method === "HEAD")) return;
  throw new HttpError(405, `use ${expected} here`);
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
      const queue = queueHandle(ctx.spool, name);
      const [size, oldestPendingAge] = await Promise.all([queue.size(), queue.oldestPendingAge()]);
      return { name, size, oldestPendingAge, rate: ctx.sampler.recentRate(name) };
    }),
  );
  const chosen = chartQueue !== null && names.includes(chartQueue) ? chartQueue : null;
  return {
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
  const limit = Math.min(MAX_PAGE, Math.max(1, Number(query.get("limit") ?? DEFAULT_PAGE) || DEFAULT_PAGE));
  const after = Math.max(0, Number(query.get("after") ?? 0) || 0);
  // One extra row tells whether a next page exists without a second query.
  const jobs = await queueHandle(ctx.spool, queueName).list({
    state: state as JobState,
    limit: limit + 1,
    after: Math.floor(after),
  });
  const page = jobs.slice(0, limit).map(toRow);
  const last = page[page.length - 1];
  return { jobs: page, next: jobs.length > limit && last !== undefined ? last.id : null };
}
