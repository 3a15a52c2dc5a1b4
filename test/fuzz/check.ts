/*
 * The invariants of docs/guarantees.md, checked on one round's history (Jepsen style: what each
 * process saw and logged, plus what the store holds once everything has stopped and drained).
 *
 * (a) nothing acknowledged is lost: every id an add resolved with, and every job a handler ran,
 *     is in the store at the end;
 * (b) no job is run by two holders inside one lease: a run may start while an earlier run of the
 *     same job is still going only once that earlier holder's lease had lapsed (its process was
 *     stopped or starved), judged by a sound lower bound of that lease; and once another holder
 *     has reserved a job, the earlier holder's heartbeats are refused;
 * (c) every job ends completed or dead, and the outcome that finished it is its last holder's
 *     (a stale holder's completion or failure was refused);
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

/** The latest time `run`'s holder is known to have held its lease, from what it logged before `at`. */
function leaseBound(run: Run, beats: readonly Beat[], at: number): { until: number; beats: number } {
  let until = run.lease;
  let n = 0;
  for (const b of beats) {
    if (b.t < run.start || b.t >= at || b.t > run.end) continue;
    if (!b.held.some(([id, attempt]) => id === run.job && attempt === run.attempt)) continue;
    if (b.lost.includes(run.job)) continue;
    n++;
    until = Math.max(until, b.t + b.ms);
  }
  return { until, beats: n };
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
  for (const [id, list] of byJob) {
    for (let j = 1; j < list.length; j++) {
      const later = list[j]!;
      for (let i = 0; i < j; i++) {
        const earlier = list[i]!;
        if (earlier.end <= later.start) continue;
        overlaps++;
        const stale = (beats.get(earlier.pid) ?? []).find(
          (b) =>
            b.t > later.start &&
            b.t <= earlier.end &&
            b.held.some(([job, attempt]) => job === id && attempt === earlier.attempt) &&
            !b.lost.includes(id),
        );
        if (stale)
          violations.push(
            `(b) job ${id}: a stale holder's heartbeat was accepted: ${show(earlier)} renewed its lease at ${stale.t}, after ${show(later)} had reserved the job`,
          );
        const bound = leaseBound(earlier, beats.get(earlier.pid) ?? [], later.start);
        if (later.start < bound.until) {
          violations.push(
            `(b) job ${id} run by two holders inside one lease: ${show(later)} started ${bound.until - later.start} ms before the lease of ${show(earlier)} ran out (held until ≥ ${bound.until}, from its reservation and ${bound.beats} heartbeat(s) issued before)`,
          );
          continue;
        }
        const wasStopped = o.stalls.some(
          (s) => s.pid === earlier.pid && s.from < later.start && s.to > earlier.start,
        );
        if (wasStopped) stalled++;
        else {
          starved++;
          notes.push(
            `job ${id}: the lease of ${show(earlier)} lapsed (held until ≥ ${bound.until}) with no SIGSTOP of its process, and ${show(later)} took it over`,
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
    const last = list[list.length - 1];
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
    if (!run) violations.push(`(c) job ${job.id} was finished by ${finisher}, which never logged its start`);
    else if (last && last !== run && last.start > run.start)
      violations.push(
        `(c) job ${job.id} ended ${job.state} by a stale holder: ${show(run)}, while a later holder had reserved it: ${show(last)}`,
      );
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
