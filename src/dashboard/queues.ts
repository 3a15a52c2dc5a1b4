/*
 * The dashboard's way to a queue. Names come from URLs, and any web page can make a browser
 * request one (an <img> needs no CSRF token), so a name the store does not hold answers 404
 * before anything is made for it: made-up names cost one query and leave nothing behind (no
 * handle, no retention entry for the Spool's housekeeping to purge every minute). Counts are
 * read straight from the store, so merely looking at a queue registers nothing either, and a
 * name in the store that today's validation refuses is still shown rather than breaking the page.
 */
import { describeLimits } from "../limits-text.js";
import type { Queue } from "../queue.js";
import type { Spool } from "../spool.js";
import type { QueueSize } from "../types.js";
import { checkName } from "../validate.js";
import { HttpError } from "./http.js";

const handles = new WeakMap<Spool, Map<string, Queue>>();
/** Only names that held jobs get here, but a store may hold very many queues: cap the cache. */
const MAX_CACHED = 1000;

/**
 * The handle on queue `name`, which must hold jobs: INVALID_NAME (400) for a malformed name,
 * 404 for one the store does not hold.
 */
export async function existingQueue(spool: Spool, name: string): Promise<Queue> {
  checkName(name);
  if (!(await spool.queues()).includes(name)) {
    throw new HttpError(404, `no queue named ${JSON.stringify(name)} holds jobs`);
  }
  let byName = handles.get(spool);
  if (byName === undefined) {
    byName = new Map();
    handles.set(spool, byName);
  }
  let queue = byName.get(name);
  if (queue === undefined) {
    queue = spool.queue(name);
    if (byName.size < MAX_CACHED) byName.set(name, queue);
  }
  return queue;
}

/** Counts of a queue the store holds, read without a handle (see above). */
export function sizeOf(spool: Spool, name: string): Promise<QueueSize> {
  spool.ctx.assertOpen();
  return spool.ctx.backend.counts(name);
}

/** Age of the oldest ready job of a queue the store holds, read without a handle. */
export function oldestPendingAgeOf(spool: Spool, name: string): Promise<number | null> {
  spool.ctx.assertOpen();
  return spool.ctx.backend.oldestPendingAge(name);
}

/** A queue's stored limits in words, or null when it has none; read without a handle. */
export async function limitsOf(spool: Spool, name: string): Promise<string | null> {
  spool.ctx.assertOpen();
  const limits = (await spool.ctx.backend.readSettings(name))?.limits;
  const text = limits === undefined ? "" : describeLimits(limits);
  return text === "" ? null : text;
}
