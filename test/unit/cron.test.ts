// Fire times and catch-up decisions (src/cron.ts), pure: no store, no clock. DST as croner
// defines it (Vixie cron): a fixed-time job in the spring gap runs once right after it, in the
// repeated autumn hour once, at the first pass; an interval job skips the gap and runs in both
// passes of the repeated hour.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CATCH_UP_MAX, decideFires, NEVER, nextFire, ON_TIME_MS, parseCron } from "../../src/cron.js";

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

/** The fires of `cron` in `tz` strictly after `from`, `n` of them, as ISO strings. */
function fires(cron: string, tz: string, from: string, n: number): string[] {
  const parsed = parseCron(cron, tz);
  const out: string[] = [];
  for (let t = at(from); out.length < n; ) {
    t = nextFire(parsed, t);
    out.push(iso(t));
  }
  return out;
}

describe("cron fire times", () => {
  test("the next fire is strictly after the given time, whatever its milliseconds", () => {
    const every = parseCron("* * * * * *", "UTC");
    assert.equal(iso(nextFire(every, at("2026-01-01T00:00:05.000Z"))), "2026-01-01T00:00:06.000Z");
    assert.equal(iso(nextFire(every, at("2026-01-01T00:00:05.999Z"))), "2026-01-01T00:00:06.000Z");
    assert.equal(iso(nextFire(every, at("2026-01-01T00:00:04.999Z"))), "2026-01-01T00:00:05.000Z");
  });

  test("5 fields are minutes, 6 fields add seconds; the zone moves wall-clock times", () => {
    assert.deepEqual(fires("*/20 * * * *", "UTC", "2026-01-01T00:00:00Z", 2), [
      "2026-01-01T00:20:00.000Z",
      "2026-01-01T00:40:00.000Z",
    ]);
    assert.deepEqual(fires("30 0 9 * * *", "America/New_York", "2026-07-01T00:00:00Z", 1), [
      "2026-07-01T13:00:30.000Z",
    ]);
    assert.deepEqual(fires("0 9 * * *", "America/New_York", "2026-01-01T00:00:00Z", 1), [
      "2026-01-01T14:00:00.000Z",
    ]);
  });

  test("Europe/Berlin spring forward: 02:30 does not exist; the fixed-time job runs at 03:00 that day", () => {
    assert.deepEqual(fires("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 3), [
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST, right after the gap
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  test("Europe/Berlin spring forward: an interval job skips the missing hour", () => {
    assert.deepEqual(fires("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", 3), [
      "2026-03-29T01:00:00.000Z", // 03:00 CEST follows 01:30 CET
      "2026-03-29T01:30:00.000Z",
      "2026-03-29T02:00:00.000Z",
    ]);
  });

  test("Europe/Berlin fall back: a fixed-time job runs once, in the first 02:30", () => {
    assert.deepEqual(fires("30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", 3), [
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z", // 02:30 CEST; the 02:30 CET an hour later does not run
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  test("Europe/Berlin fall back: an interval job runs in both passes of the repeated hour", () => {
    assert.deepEqual(fires("*/30 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", 4), [
      "2026-10-25T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T01:00:00.000Z", // 02:00 CET
      "2026-10-25T01:30:00.000Z", // 02:30 CET
      "2026-10-25T02:00:00.000Z",
    ]);
  });

  test("America/New_York: catching up across the spring gap enqueues each real fire once", () => {
    const hourly = parseCron("0 * * * *", "America/New_York");
    // 2026-03-08: 02:00 local does not exist (01:59 EST → 03:00 EDT).
    const { fires: due, next } = decideFires(
      hourly,
      at("2026-03-08T05:00:00Z"),
      at("2026-03-08T08:30:00Z"),
      "all",
    );
    assert.deepEqual(due.map(iso), [
      "2026-03-08T05:00:00.000Z", // 00:00 EST
      "2026-03-08T06:00:00.000Z", // 01:00 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-08T08:00:00.000Z", // 04:00 EDT
    ]);
    assert.equal(iso(next), "2026-03-08T09:00:00.000Z");
  });
});

describe("catch-up decisions", () => {
  const minutely = parseCron("* * * * *", "UTC");
  const t0 = at("2026-05-01T10:00:00Z");
  const now = t0 + 10 * 60_000 + 1_000; // ten minutes and a second after next_at

  test('"all" enqueues every fire from next_at to now; next_at moves past now', () => {
    const d = decideFires(minutely, t0, now, "all");
    assert.equal(d.fires.length, 11);
    assert.equal(d.fires[0], t0);
    assert.equal(d.fires.at(-1), t0 + 10 * 60_000);
    assert.equal(d.next, t0 + 11 * 60_000);
  });

  test('"last" enqueues the latest missed fire and every on-time one', () => {
    // 10:10 is on time (a second late): it fires, and of 10:00 to 10:09, only 10:09.
    assert.deepEqual(decideFires(minutely, t0, now, "last").fires, [t0 + 9 * 60_000, t0 + 10 * 60_000]);
    // Past ON_TIME_MS, 10:10 is missed too: one job, for it.
    assert.deepEqual(decideFires(minutely, t0, now + ON_TIME_MS, "last").fires, [t0 + 10 * 60_000]);
  });

  test('"none" enqueues only on-time fires', () => {
    assert.deepEqual(decideFires(minutely, t0, now, "none").fires, [t0 + 10 * 60_000]);
    assert.deepEqual(decideFires(minutely, t0, now + ON_TIME_MS, "none").fires, []);
    assert.equal(decideFires(minutely, t0, now + ON_TIME_MS, "none").next, t0 + 11 * 60_000);
  });

  test('"all" after a long gap keeps the latest fires, at most CATCH_UP_MAX', () => {
    const secondly = parseCron("* * * * * *", "UTC");
    const d = decideFires(secondly, t0, t0 + 86_400_000, "all");
    assert.equal(d.fires.length, CATCH_UP_MAX);
    assert.equal(d.fires.at(-1), t0 + 86_400_000);
    assert.equal(d.fires[0], t0 + 86_400_000 - (CATCH_UP_MAX - 1) * 1000);
    assert.equal(decideFires(secondly, t0, t0 + 86_400_000, "last").fires.length, 2 + ON_TIME_MS / 1000);
  });

  test("a schedule not yet due decides nothing", () => {
    assert.deepEqual(decideFires(minutely, t0, t0 - 1, "all"), { fires: [], next: t0 });
  });

  test("a cron with no fire left moves next_at to NEVER", () => {
    assert.equal(nextFire(parseCron("0 0 1 1 *", "UTC"), at("9999-06-01T00:00:00Z")), NEVER);
  });
});
