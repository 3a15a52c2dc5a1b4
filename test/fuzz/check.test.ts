// The fuzz's checker on small hand-written histories: each invariant fires on the history that
// breaks it, and stays quiet on the overlaps at-least-once delivery allows.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { check, type Observed } from "./check.js";
import type { FuzzRecord } from "./log.js";

const LEASE = 1000;
const start = (run: string, pid: number, job: number, attempt: number, t: number): FuzzRecord => ({
  e: "start",
  run,
  pid,
  job,
  attempt,
  t,
  lease: t + LEASE,
});
const end = (run: string, t: number, outcome: "ok" | "fail" = "ok"): FuzzRecord => ({
  e: "end",
  run,
  t,
  lease: t + LEASE,
  outcome,
});
const beat = (pid: number, t: number, job: number, attempt: number, lost = false): FuzzRecord => ({
  e: "hb",
  pid,
  t,
  done: t + 5,
  ms: LEASE,
  held: [[job, attempt]],
  lost: lost ? [job] : [],
});

function observed(more: Partial<Observed>): Observed {
  return {
    records: [],
    deaths: new Map(),
    stalls: [],
    jobs: [],
    size: { pending: 0, delayed: 0, reserved: 0 },
    ...more,
  };
}

const completed = (id: number, run: string, attempts: number) => ({
  id,
  state: "completed",
  attempts,
  result: { run, attempt: attempts },
});

describe("kill fuzz checker", () => {
  test("a clean history passes", () => {
    const v = check(
      observed({
        records: [{ e: "acked", pid: 1, ids: [1] }, start("2.1", 2, 1, 1, 100), end("2.1", 200)],
        jobs: [completed(1, "2.1", 1)],
      }),
    );
    assert.deepEqual(v.violations, []);
  });

  test("(a) an acknowledged id missing from the store", () => {
    const v = check(observed({ records: [{ e: "acked", pid: 1, ids: [7] }] }));
    assert.match(v.violations.join("\n"), /\(a\) lost: job 7/);
  });

  test("(b) a second run inside the first holder's renewed lease", () => {
    const v = check(
      observed({
        records: [
          start("2.1", 2, 1, 1, 0),
          beat(2, 900, 1, 1),
          start("3.1", 3, 1, 2, 1500),
          end("3.1", 1600),
          end("2.1", 1700),
        ],
        jobs: [completed(1, "3.1", 2)],
      }),
    );
    assert.match(
      v.violations.join("\n"),
      /\(b\) job 1 run by two holders inside one lease: both run 2\.1 .* and run 3\.1 .* held it from 1500 to 1600/,
    );
  });

  test("(b) a second run after the first holder's lease lapsed in a SIGSTOP is allowed", () => {
    const v = check(
      observed({
        records: [
          start("2.1", 2, 1, 1, 0),
          beat(2, 300, 1, 1),
          start("3.1", 3, 1, 2, 1400),
          end("3.1", 1500),
          beat(2, 2000, 1, 1, true),
          end("2.1", 2000),
        ],
        stalls: [{ pid: 2, from: 310, to: 1990 }],
        jobs: [completed(1, "3.1", 2)],
      }),
    );
    assert.deepEqual(v.violations, []);
    assert.equal(v.stats.overlapsStopped, 1);
  });

  test("(b) a stale holder's heartbeat accepted after another holder reserved the job", () => {
    const v = check(
      observed({
        records: [
          start("2.1", 2, 1, 1, 0),
          start("3.1", 3, 1, 1, 1500),
          beat(2, 1600, 1, 1),
          end("2.1", 1700),
          end("3.1", 1800),
        ],
        stalls: [{ pid: 2, from: 10, to: 1590 }],
        jobs: [completed(1, "3.1", 1)],
      }),
    );
    assert.match(v.violations.join("\n"), /\(b\) job 1: a stale holder's heartbeat was accepted: run 2\.1/);
  });

  test("(b) a run that starts on a lapsed reservation is no holder", () => {
    // pid 2 reserved the job, stalled before starting it, and started it after pid 3 took over.
    const v = check(
      observed({
        records: [
          start("3.1", 3, 1, 2, 1000),
          { e: "start", run: "2.1", pid: 2, job: 1, attempt: 1, t: 1100, lease: 500 },
          beat(2, 1200, 1, 1, true),
          end("2.1", 1210),
          end("3.1", 1300),
        ],
        stalls: [{ pid: 2, from: 0, to: 1090 }],
        jobs: [completed(1, "3.1", 2)],
      }),
    );
    assert.deepEqual(v.violations, []);
  });

  test("(b) a killed holder's run ends at its death", () => {
    const v = check(
      observed({
        records: [start("2.1", 2, 1, 1, 0), start("3.1", 3, 1, 2, 1200), end("3.1", 1300)],
        deaths: new Map([[2, 50]]),
        jobs: [completed(1, "3.1", 2)],
      }),
    );
    assert.deepEqual(v.violations, []);
    assert.equal(v.stats.overlaps, 0);
  });

  test("(c) a job left pending, and a completion by a stale holder", () => {
    const v = check(
      observed({
        records: [start("2.1", 2, 1, 1, 0), start("3.1", 3, 1, 2, 1200), end("3.1", 1300), end("2.1", 1400)],
        deaths: new Map(),
        jobs: [completed(1, "2.1", 1), { id: 2, state: "pending", attempts: 0 }],
      }),
    );
    const text = v.violations.join("\n");
    assert.match(text, /\(c\) job 1 ended completed by a stale holder: run 2\.1/);
    assert.match(text, /\(c\) job 2 ended pending/);
  });

  test("(d) jobs still reserved after the drain", () => {
    const v = check(observed({ size: { pending: 0, delayed: 0, reserved: 2 } }));
    assert.match(v.violations.join("\n"), /\(d\) stuck after the drain: pending 0, delayed 0, reserved 2/);
  });
});
