/*
 * The invariants of docs/guarantees.md, checked on one round's history (Jepsen style: what each
 * process saw and logged, plus what the store holds once everything has stopped and drained).
 *
 * (a) nothing acknowledged is lost: every id an add resolved with, and every job a handler ran,
 *     is in the store at the end;
 * (b) no job is run by two holders inside one lease: two runs of one job may overlap only once
 *     the earlier holder's lease had lapsed (its process was stopped or starved); no two runs'
 *     reservations are ever proven current at once (see provenHeld), and once a later run holds
 *     the job, the earlier holder's heartbeats are refused;
 * (c) every job ends completed or dead, and the outcome that finished it is its holder's: no
 *     other run held the job between the finisher's start and end (a stale holder's completion
 *     or failure is refused);
 * (d) nothing is stuck: after the drain no job is pending, delayed or reserved.
 */
import type { FuzzRecord } from "./log.js";

export interface FinalJob {
  id: number;
  state: string;
  attempts: number;
  lastError?: string;
  result?: unknown;
}

export interface Observed {
  records: FuzzRecord[];
  /** When each ended child process was seen to exit (after SIGKILL, SIGTERM or on its own). */
  deaths: ReadonlyMap<number, number>;
  /** SIGSTOP…SIGCONT windows. */
  stalls: ReadonlyArray<{ pid: number; from: number; to: number }>;
  /** Every job in the store after the drain. */
  jobs: readonly FinalJob[];
  size: { pending: number; delayed: number; reserved: number };
}

export interface Run {
  run: string;
  pid: number;
  job: number;
  attempt: number;
  /** Which reservation: the lease token (the attempt in histories that carry none). */
  token: number;
  start: number;
  lease: number;
  /** Logged end, else the process's death, else open. */
  end: number;
  ended: "logged" | "killed" | "open";
  outcome?: string;
}

export interface Verdict {
  violations: string[];
  notes: string[];
  stats: Record<string, number>;
}

type Beat = Extract<FuzzRecord, { e: "hb" }>;

export function runsOf(o: Observed): Run[] {
  const runs = new Map<string, Run>();
  for (const r of o.records) {
    if (r.e === "start") {
      runs.set(r.run, {
        run: r.run,
        pid: r.pid,
        job: r.job,
        attempt: r.attempt,
        token: r.token ?? r.attempt,
        start: r.t,
        lease: r.lease,
        end: Number.POSITIVE_INFINITY,
        ended: "open",
      });
    }
  }
  for (const r of o.records) {
    const run = r.e === "end" ? runs.get(r.run) : undefined;
    if (r.e === "end" && run) {
      run.end = r.t;
      run.ended = "logged";
      run.outcome = r.outcome;
    }
  }
  for (const run of runs.values()) {
    const death = o.deaths.get(run.pid);
    if (run.ended === "open" && death !== undefined) {
      run.end = death;
      run.ended = "killed";
    }
  }
  return [...runs.values()];
}

/**
 * When `run`'s reservation is proven current, from what its process logged: from its start until
 * the lease it was reserved with (when that was still ahead), and from each heartbeat that kept
 * it (its answer came back by `done`, so the store accepted it by then) until the heartbeat's
 * issue time plus its length (the store's own now was later). All clipped to the run's end,
 * after which its completion or failure may have ended the reservation. Two runs of one job
 * must never be current at once; where the history shows nothing (a run that started on a
 * reservation already lapsed, a heartbeat cut short by SIGKILL), nothing is claimed.
 */
export function provenHeld(run: Run, beats: readonly Beat[]): [number, number][] {
  const out: [number, number][] = [];
  const clip = (from: number, to: number) => {
    const until = Math.min(to, run.end);
    if (from < until) out.push([from, until]);
  };
  clip(run.start, run.lease);
  for (const b of beats) {
    if (b.t < run.start || b.t > run.end || b.lost.includes(run.job)) continue;
    if (!b.held.some(([id, token]) => id === run.job && token === run.token)) continue;
    clip(b.done, b.t + b.ms);
  }
  return out;
}

function intersection(a: [number, number][], b: [number, number][]): [number, number] | undefined {
  for (const [x0, x1] of a)
    for (const [y0, y1] of b) {
      const from = Math.max(x0, y0);
      const to = Math.min(x1, y1);
      if (from < to) return [from, to];
    }
  return undefined;
}

const show = (r: Run) =>
  `run ${r.run} (pid ${r.pid}, attempt ${r.attempt}, ${r.start}…${Number.isFinite(r.end) ? r.end : "never ended"} ${r.ended}, outcome ${r.outcome ?? "-"}, lease at start ${r.lease})`;

export function check(o: Observed): Verdict {
  const violations: string[] = [];
  const notes: string[] = [];
  const jobs = new Map(o.jobs.map((j) => [j.id, j]));
  const runs = runsOf(o);
  const byJob = new Map<number, Run[]>();
  for (const r of runs) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  for (const list of byJob.values()) list.sort((x, y) => x.start - y.start);
  const beats = new Map<number, Beat[]>();
  for (const r of o.records) if (r.e === "hb") beats.set(r.pid, [...(beats.get(r.pid) ?? []), r]);

  // (a) nothing acknowledged (or run) is lost.
  const acked = new Set(o.records.flatMap((r) => (r.e === "acked" ? r.ids : [])));
  for (const id of acked)
    if (!jobs.has(id)) violations.push(`(a) lost: job ${id} was acknowledged by add but is not in the store`);
  for (const [id, list] of byJob)
    if (!jobs.has(id))
      violations.push(`(a) lost: job ${id} ran (${list.map(show).join("; ")}) but is not in the store`);

  // (b) no two live holders of one job.
  let overlaps = 0;
  let stalled = 0;
  let starved = 0;
  const held = new Map<Run, [number, number][]>();
  for (const r of runs) held.set(r, provenHeld(r, beats.get(r.pid) ?? []));
  for (const [id, list] of byJob) {
    for (let j = 1; j < list.length; j++) {
      const later = list[j]!;
      for (let i = 0; i < j; i++) {
        const earlier = list[i]!;
        if (earlier.end <= later.start) continue;
        overlaps++;
        const both = intersection(held.get(earlier)!, held.get(later)!);
        if (both)
          violations.push(
            `(b) job ${id} run by two holders inside one lease: both ${show(earlier)} and ${show(later)} held it from ${both[0]} to ${both[1]} (${JSON.stringify(held.get(earlier))} and ${JSON.stringify(held.get(later))})`,
          );
        // Once the later run is proven to hold the job, the earlier holder's renewals must fail.
        const since = held.get(later)![0]?.[0];
        const stale =
          since === undefined
            ? undefined
            : (beats.get(earlier.pid) ?? []).find(
                (b) =>
                  b.t > since &&
                  b.t <= earlier.end &&
                  b.held.some(([job, token]) => job === id && token === earlier.token) &&
                  !b.lost.includes(id),
              );
        if (stale)
          violations.push(
            `(b) job ${id}: a stale holder's heartbeat was accepted: ${show(earlier)} renewed its lease at ${stale.t}, after ${show(later)} held the job (from ${since})`,
          );
        if (both || stale) continue;
        const wasStopped = o.stalls.some(
          (s) => s.pid === earlier.pid && s.from < later.start && s.to > earlier.start,
        );
        if (wasStopped) stalled++;
        else {
          starved++;
          notes.push(
            `job ${id}: ${show(earlier)}, held ${JSON.stringify(held.get(earlier))}, ran on with no SIGSTOP of its process while ${show(later)} took the job over`,
          );
        }
      }
    }
  }

  // (c) every job ends completed or dead, finished by its last holder.
  for (const job of o.jobs) {
    if (job.state !== "completed" && job.state !== "dead") {
      violations.push(
        `(c) job ${job.id} ended ${job.state} (attempts ${job.attempts}), not completed or dead`,
      );
      continue;
    }
    const list = byJob.get(job.id) ?? [];
    let finisher: string | undefined;
    if (job.state === "completed") {
      const result = job.result as { run?: unknown; attempt?: unknown } | undefined;
      if (typeof result?.run !== "string") {
        violations.push(`(c) job ${job.id} is completed with no run's result: ${JSON.stringify(job.result)}`);
        continue;
      }
      finisher = result.run;
      if (result.attempt !== job.attempts)
        violations.push(
          `(c) job ${job.id} completed by ${finisher} at attempt ${String(result.attempt)} but the store says attempt ${job.attempts}`,
        );
    } else {
      const failed = /^fuzz failure (\S+)$/.exec(job.lastError ?? "");
      finisher = failed?.[1];
    }
    if (finisher === undefined) continue;
    const run = list.find((r) => r.run === finisher);
    if (!run) {
      violations.push(`(c) job ${job.id} was finished by ${finisher}, which never logged its start`);
      continue;
    }
    // Another run proven to hold the job after this one had reserved it, and before this one
    // could send its outcome: that outcome had to be refused.
    for (const other of list) {
      if (other === run) continue;
      const between = intersection(held.get(other)!, [[run.start, run.end]]);
      if (between)
        violations.push(
          `(c) job ${job.id} ended ${job.state} by a stale holder: ${show(run)}, while ${show(other)} held it from ${between[0]} to ${between[1]}`,
        );
    }
  }

  // (d) nothing stuck.
  const { pending, delayed, reserved } = o.size;
  if (pending + delayed + reserved !== 0)
    violations.push(
      `(d) stuck after the drain: pending ${pending}, delayed ${delayed}, reserved ${reserved}`,
    );

  const errors = o.records.filter((r) => r.e === "error");
  const byCode = new Map<string, number>();
  for (const e of errors) byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
  for (const [code, n] of byCode)
    if (code !== "LEASE_LOST")
      notes.push(`${n} error(s) ${code}, e.g. ${errors.find((e) => e.code === code)?.message}`);
  return {
    violations,
    notes,
    stats: {
      jobs: o.jobs.length,
      acked: acked.size,
      runs: runs.length,
      completed: o.jobs.filter((j) => j.state === "completed").length,
      dead: o.jobs.filter((j) => j.state === "dead").length,
      killedRuns: runs.filter((r) => r.ended === "killed").length,
      overlaps,
      overlapsStopped: stalled,
      overlapsStarved: starved,
      heartbeats: o.records.filter((r) => r.e === "hb").length,
      leaseLost: byCode.get("LEASE_LOST") ?? 0,
    },
  };
}
