// Operating a queue: pause and resume (a setting stored with the queue, obeyed by every claim in
// every process) and progress (a note stored on a held job, lease-checked like extend). Queue's
// methods are thin: the rules live here.
import type { Hold } from "./backend.js";
import type { SpoolContext } from "./context.js";
import { leaseLostError, notFoundError } from "./errors.js";
import { progressJson } from "./progress.js";
import type { JobProgress } from "./types.js";

interface Controlled {
  readonly name: string;
  readonly ctx: SpoolContext;
}

/**
 * Pauses or resumes `queue` for every process. Once it resolves, no claim anywhere takes a job
 * of it (the claim statement reads the stored pause); this process's workers hand back what
 * they claimed ahead and have not started, and other processes' do so when the store's signal
 * reaches them. A resume wakes every idle worker at once.
 */
export async function storePaused(queue: Controlled, paused: boolean): Promise<void> {
  queue.ctx.assertOpen();
  await queue.ctx.backend.storePaused(queue.name, paused);
  queue.ctx.controlled(queue.name, paused);
}

/** Whether `queue` is paused now, as stored. */
export async function readPaused(queue: Controlled): Promise<boolean> {
  queue.ctx.assertOpen();
  return (await queue.ctx.backend.readSettings(queue.name))?.paused === true;
}

/**
 * Stores `value` as the progress of job `id`, held as `hold` says: refused like `extend` (LEASE_LOST,
 * NOT_FOUND) when the holder no longer holds it. The value is checked before anything is sent.
 */
export async function storeProgress(
  queue: Controlled,
  id: number,
  hold: Hold,
  value: unknown,
): Promise<JobProgress> {
  const json = progressJson(value);
  queue.ctx.assertOpen();
  const outcome = await queue.ctx.backend.progress(queue.name, id, hold, json);
  if (outcome === "not_found") throw notFoundError(queue.name, id, "report progress of");
  if (outcome === "lease_lost") throw leaseLostError(queue.name, id, "report progress of");
  return JSON.parse(json) as JobProgress; // what was stored, as `get` will read it
}
