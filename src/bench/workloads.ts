/*
 * The workloads, written once against the Subject interface. Each is bounded twice: by a count
 * and by a time budget. A subject that runs out of budget yields a rate over what it finished,
 * marked partial, so a slow peer costs seconds, not the whole run.
 */
import type { ChildProcess } from "node:child_process";
import { Spool } from "../index.js";
import type { BenchPayload } from "./stats.js";
import { bigPayload, epochNow, quantile, sleep, smallPayload } from "./stats.js";
import type { BenchDurability, Subject } from "./subject.js";
import { isMissing } from "./subject.js";

export interface Figure {
  /** The headline number: a rate for throughput workloads, the p50 for latency. */
  value: number;
  unit: "jobs/s" | "ms" | "MB/s";
  /** Items measured, out of `of` asked for. */
  done: number;
  of: number;
  p99?: number;
  /** Why the figure is not the plain measurement (partial, measured another way…). */
  note?: string;
  /**
   * The subject lacks the workload's call and was measured another way (what it says): shown,
   * but never the "best peer" a ratio is taken against, as it is not the same workload.
   */
  substitute?: string;
}

export interface NotApplicable {
  na: string;
}

export type Outcome = Figure | NotApplicable;

function rate(done: number, of: number, ms: number, unit: Figure["unit"] = "jobs/s"): Figure {
  const figure: Figure = { value: (done * 1000) / Math.max(ms, 0.001), unit, done, of };
  if (done < of)
    figure.note = `partial: ${done.toLocaleString("en-US")} of ${of.toLocaleString("en-US")} in the time budget`;
  return figure;
}

/** `n` single adds, each its own call and commit. */
export async function addSingle(subject: Subject, n: number, budgetMs: number): Promise<Figure> {
  const start = performance.now();
  let done = 0;
  while (done < n && performance.now() - start < budgetMs) {
    await subject.addOne(smallPayload(done));
    done++;
  }
  return rate(done, n, performance.now() - start);
}

/** `total` jobs added in calls of `size`. */
export async function addBatches(
  subject: Subject,
  total: number,
  size: number,
  budgetMs: number,
): Promise<Outcome> {
  const addBatch = subject.addBatch;
  if (isMissing(addBatch)) return { na: addBatch.reason };
  const batches: BenchPayload[][] = [];
  for (let s = 0; s < total; s += size) {
    batches.push(Array.from({ length: Math.min(size, total - s) }, (_, k) => smallPayload(s + k)));
  }
  const start = performance.now();
  let done = 0;
  for (const batch of batches) {
    if (performance.now() - start >= budgetMs) break;
    await addBatch(batch);
    done += batch.length;
  }
  return rate(done, total, performance.now() - start);
}

/**
 * Runs a worker until `n` handlers have started or the budget is spent. The clock stops at the
 * n-th handler; at most `concurrency` completions are still in flight then, a rounding error.
 * The handler checks the budget itself: a worker that never yields to timers while jobs are
 * ready (some chain promises that are all already resolved) would otherwise outrun the timer.
 */
async function runWorker(subject: Subject, n: number, concurrency: number, budgetMs: number) {
  let seen = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  let end = 0;
  const worker = await subject.work(() => {
    if (end !== 0) return;
    seen++;
    const now = performance.now();
    if (seen === n || now - start >= budgetMs) {
      end = now;
      finish();
    }
  }, concurrency);
  const timer = setTimeout(finish, budgetMs);
  await finished;
  clearTimeout(timer);
  if (end === 0) end = performance.now();
  const elapsed = end - start;
  const done = Math.min(seen, n);
  await worker.stop();
  return { done, elapsed };
}

/** Drains `n` pre-filled jobs with a no-op handler at `concurrency`. */
export async function drain(
  subject: Subject,
  n: number,
  concurrency: number,
  budgetMs: number,
): Promise<Figure> {
  await subject.prefill(n, (i) => smallPayload(i));
  const { done, elapsed } = await runWorker(subject, n, concurrency, budgetMs);
  return rate(done, n, elapsed);
}

/** Reserves and completes `n` jobs one by one from a queue `depth` deep. */
export async function takeFromDepth(
  subject: Subject,
  depth: number,
  n: number,
  budgetMs: number,
): Promise<Figure> {
  await subject.prefill(depth, (i) => smallPayload(i));
  const takeOne = subject.takeOne;
  if (isMissing(takeOne)) {
    const { done, elapsed } = await runWorker(subject, n, 1, budgetMs);
    const figure = rate(done, n, elapsed);
    figure.substitute = `${takeOne.reason}: its worker at concurrency 1, a batched path, not compared`;
    return figure;
  }
  const start = performance.now();
  let done = 0;
  while (done < n && performance.now() - start < budgetMs) {
    if (!(await takeOne())) break;
    done++;
  }
  return rate(done, n, performance.now() - start);
}

/**
 * takeFromDepth on a Spool queue whose `depth` jobs are spread evenly over `groups` groups
 * (added a group at a time): every reserve takes the limited claim's round-robin path, one
 * statement that seeks the group after the last one served and claims its head. Each group's
 * jobs lie together, apart from the others', so each turn writes other pages than the last: the
 * cost over a plain queue is mostly those pages, at commit and at checkpoint. Spool only: a
 * grouped queue has no raw twin.
 */
export async function takeFromGroups(
  path: string,
  durability: BenchDurability,
  depth: number,
  groups: number,
  n: number,
  budgetMs: number,
): Promise<Figure> {
  const spool = await Spool.open(path, { durability });
  try {
    const queue = spool.queue<BenchPayload>("bench");
    const per = Math.ceil(depth / groups);
    for (let g = 0; g * per < depth; g++) {
      const size = Math.min(per, depth - g * per);
      await queue.addBatch(
        Array.from({ length: size }, (_, k) => smallPayload(g * per + k)),
        { group: `tenant-${g}` },
      );
    }
    const start = performance.now();
    let done = 0;
    while (done < n && performance.now() - start < budgetMs) {
      const job = await queue.reserve();
      if (job === null) break;
      await queue.complete(job);
      done++;
    }
    return rate(done, n, performance.now() - start);
  } finally {
    await spool.close();
  }
}

/**
 * An idle worker, then `n` jobs added `gapMs` apart; measures add-call start to handler start.
 * With `spawnProducer`, another process adds them to the same store.
 */
export async function idleLatency(
  subject: Subject,
  n: number,
  gapMs: number,
  budgetMs: number,
  spawnProducer?: (n: number, gapMs: number) => ChildProcess,
): Promise<Figure> {
  const delays: number[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = await subject.work((payload) => {
    if (payload.t > 0) delays.push(epochNow() - payload.t);
    if (delays.length >= n) finish();
  }, 1);
  // Let the worker find the queue empty and go idle before the first job arrives.
  await sleep(300);
  const timer = setTimeout(finish, budgetMs);
  let producerError: Error | null = null;
  if (spawnProducer) {
    const child = spawnProducer(n, gapMs);
    child.on("exit", (code) => {
      if (code !== 0) {
        producerError = new Error(`the producer process exited with ${code}`);
        finish();
      }
    });
  } else {
    for (let i = 0; i < n && delays.length < n; i++) {
      await subject.addOne(smallPayload(i, epochNow()));
      await sleep(gapMs);
    }
  }
  await finished;
  clearTimeout(timer);
  await worker.stop();
  if (producerError !== null && delays.length === 0) throw producerError;
  const figure: Figure = { value: quantile(delays, 0.5), unit: "ms", done: delays.length, of: n };
  figure.p99 = quantile(delays, 0.99);
  if (delays.length < n) figure.note = `partial: ${delays.length} of ${n} arrived in the time budget`;
  return figure;
}

/** The 1 MB workload's budget, in common budgets (bench/child.ts): room for 200 MB at ~20 MB/s. */
export const MB_BUDGET_FACTOR = 12;

/** `count` payloads of `bytes` each: added one by one, then drained at concurrency 1 (MB/s). */
export async function bigPayloads(
  subject: Subject,
  count: number,
  bytes: number,
  budgetMs: number,
): Promise<Figure> {
  const start = performance.now();
  let added = 0;
  while (added < count && performance.now() - start < budgetMs / 2) {
    await subject.addOne(bigPayload(added, bytes));
    added++;
  }
  const { done } = await runWorker(subject, added, 1, budgetMs - (performance.now() - start));
  const elapsed = performance.now() - start;
  const figure: Figure = { value: (done * bytes) / 1e6 / (elapsed / 1000), unit: "MB/s", done, of: count };
  if (done < count) figure.note = `partial: ${done} of ${count} round trips in the time budget`;
  return figure;
}
