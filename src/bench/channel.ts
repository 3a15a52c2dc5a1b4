/*
 * Channel workloads of the quick benchmark: Spool's sender and receiver against raw inserts
 * and delete-returning takes on the same table shape, at the same durability.
 */
import { Spool } from "../index.js";
import { RawStore } from "./raw.js";
import type { BenchPayload } from "./stats.js";
import { smallPayload } from "./stats.js";
import type { BenchDurability } from "./subject.js";
import type { Figure } from "./workloads.js";

export type ChannelWorkload =
  | { kind: "send"; n: number }
  | { kind: "sendBatch"; total: number; size: number }
  | { kind: "recv"; n: number }
  | { kind: "recvBatch"; n: number; size: number }
  | { kind: "senders"; senders: number; each: number };

function asked(w: ChannelWorkload): number {
  if (w.kind === "sendBatch") return w.total;
  if (w.kind === "senders") return w.senders * w.each;
  return w.n;
}

function figure(w: ChannelWorkload, done: number, ms: number): Figure {
  const of = asked(w);
  const result: Figure = { value: (done * 1000) / Math.max(ms, 0.001), unit: "jobs/s", done, of };
  if (done < of) result.note = `partial: ${done} of ${of} in the time budget`;
  return result;
}

function batchesOf(total: number, size: number): BenchPayload[][] {
  const out: BenchPayload[][] = [];
  for (let s = 0; s < total; s += size) {
    out.push(Array.from({ length: Math.min(size, total - s) }, (_, k) => smallPayload(s + k)));
  }
  return out;
}

export async function spoolChannel(
  path: string,
  durability: BenchDurability,
  w: ChannelWorkload,
  budgetMs: number,
): Promise<Figure> {
  const spool = await Spool.open(path, { durability });
  try {
    const [tx, rx] = await spool.channel<BenchPayload>("bench-channel");
    if (w.kind === "recv" || w.kind === "recvBatch") {
      for (const batch of batchesOf(w.n, 1000)) await tx.sendBatch(batch);
    }
    const start = performance.now();
    const inTime = (): boolean => performance.now() - start < budgetMs;
    let done = 0;
    switch (w.kind) {
      case "send":
        for (; done < w.n && inTime(); done++) await tx.send(smallPayload(done));
        break;
      case "sendBatch":
        for (const batch of batchesOf(w.total, w.size)) {
          if (!inTime()) break;
          await tx.sendBatch(batch);
          done += batch.length;
        }
        break;
      case "recv":
        while (done < w.n && inTime() && (await rx.recv()) !== undefined) done++;
        break;
      case "recvBatch":
        while (inTime()) {
          const got = await rx.recvBatch(w.size);
          if (got.length === 0) break;
          done += got.length;
        }
        break;
      case "senders":
        await Promise.all(
          Array.from({ length: w.senders }, async (_, s) => {
            for (let k = 0; k < w.each && inTime(); k++) {
              await tx.send(smallPayload(s * w.each + k));
              done++;
            }
          }),
        );
        break;
    }
    return figure(w, done, performance.now() - start);
  } finally {
    await spool.close();
  }
}

/** The same work with no library: one INSERT or one DELETE … RETURNING per transaction. */
export async function rawChannel(
  path: string,
  durability: BenchDurability,
  w: ChannelWorkload,
  budgetMs: number,
): Promise<Figure> {
  const raw = new RawStore({ path, durability, name: "bench-channel" });
  try {
    if (w.kind === "recv" || w.kind === "recvBatch") await raw.prefill(w.n, (i) => smallPayload(i));
    const start = performance.now();
    const inTime = (): boolean => performance.now() - start < budgetMs;
    let done = 0;
    switch (w.kind) {
      case "send":
        for (; done < w.n && inTime(); done++) await raw.addOne(smallPayload(done));
        break;
      case "sendBatch":
        for (const batch of batchesOf(w.total, w.size)) {
          if (!inTime()) break;
          await raw.addBatch(batch);
          done += batch.length;
        }
        break;
      case "recv":
        while (done < w.n && inTime() && raw.take(1).length > 0) done++;
        break;
      case "recvBatch":
        while (inTime()) {
          const got = raw.take(w.size);
          if (got.length === 0) break;
          done += got.length;
        }
        break;
      case "senders":
        // One connection commits one INSERT at a time: the raw limit for single commits.
        for (; done < w.senders * w.each && inTime(); done++) await raw.addOne(smallPayload(done));
        break;
    }
    return figure(w, done, performance.now() - start);
  } finally {
    await raw.close();
  }
}
