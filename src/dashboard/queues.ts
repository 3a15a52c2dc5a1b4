/*
 * One Queue object per name and Spool, made once. `spool.queue(name)` is cheap, but each call
 * registers that handle's (default) retention settings for the Spool's housekeeping: reusing
 * one handle keeps the dashboard from re-registering them on every request and every sample.
 */
import type { Queue } from "../queue.js";
import type { Spool } from "../spool.js";

const handles = new WeakMap<Spool, Map<string, Queue>>();
/** Names come from URLs too: cap the cache so made-up names cannot grow it without end. */
const MAX_CACHED = 1000;

/** The dashboard's handle on queue `name`; throws INVALID_NAME for a bad name. */
export function queueHandle(spool: Spool, name: string): Queue {
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
