// The per-Spool view of stored queue settings, against a fake store: what it writes, when it
// reads, and what it does when the store fails.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend, QueueSettings } from "../../src/backend.js";
import { SpoolError } from "../../src/errors.js";
import { DEFAULT_RETENTION, SettingsCache } from "../../src/settings.js";

/** A store of settings only; `fail` makes its next calls reject. */
function fakeStore() {
  const rows = new Map<string, QueueSettings>();
  const calls = { reads: 0, writes: 0 };
  const state = { fail: false };
  const busy = () => new SpoolError("BUSY", "the store is locked");
  const backend = {
    async readSettings(queue: string) {
      calls.reads++;
      if (state.fail) throw busy();
      return rows.get(queue) ?? null;
    },
    async storeRetention(queue: string, retention: { completed: number; dead: number }) {
      calls.writes++;
      if (state.fail) throw busy();
      rows.set(queue, { retention });
    },
  } as unknown as Backend;
  return { backend, rows, calls, state };
}

describe("queue settings cache", () => {
  test("a queue with nothing stored has the contract's default retention", async () => {
    const { backend } = fakeStore();
    assert.deepEqual(await new SettingsCache(backend).retention("q"), DEFAULT_RETENTION);
  });

  test("stating a retention stores it once, however many handles state it", async () => {
    const { backend, rows, calls } = fakeStore();
    const cache = new SettingsCache(backend);
    for (let i = 0; i < 5; i++) cache.state("q", { completed: 0, dead: 10 });
    await cache.flush();
    assert.equal(calls.writes, 1);
    assert.deepEqual(rows.get("q"), { retention: { completed: 0, dead: 10 } });
    cache.state("q", { completed: 5, dead: 10 });
    await cache.flush();
    assert.equal(calls.writes, 2, "another retention is written");
    assert.deepEqual(await cache.retention("q"), { completed: 5, dead: 10 });
  });

  test("the stored retention is read once per second at most, and another process's change is seen", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    const { backend, rows, calls } = fakeStore();
    const cache = new SettingsCache(backend);
    rows.set("q", { retention: { completed: 1, dead: 2 } });
    assert.deepEqual(await cache.retention("q"), { completed: 1, dead: 2 });
    rows.set("q", { retention: { completed: 0, dead: 2 } });
    await cache.retention("q");
    assert.equal(calls.reads, 1, "cached within the second");
    t.mock.timers.tick(1000);
    assert.deepEqual(await cache.retention("q"), { completed: 0, dead: 2 });
    assert.equal(calls.reads, 2);
  });

  test("a fresh copy answers at once, without a promise, so completions of one turn share a transaction", async () => {
    const { backend } = fakeStore();
    const cache = new SettingsCache(backend);
    cache.state("q", { completed: 0, dead: 10 });
    assert.ok(cache.retention("q") instanceof Promise, "the stated write is still to be awaited");
    await cache.flush();
    await cache.retention("q");
    const answer = cache.retention("q");
    assert.ok(!(answer instanceof Promise));
    assert.deepEqual(answer, { completed: 0, dead: 10 });
  });

  test("a failed write fails the operation that depends on it, and is tried again", async () => {
    const { backend, rows, state } = fakeStore();
    const cache = new SettingsCache(backend);
    state.fail = true;
    cache.state("q", { completed: 0, dead: 10 });
    await assert.rejects(async () => cache.retention("q"), { code: "BUSY" });
    state.fail = false;
    assert.deepEqual(await cache.retention("q"), { completed: 0, dead: 10 });
    assert.deepEqual(rows.get("q"), { retention: { completed: 0, dead: 10 } });
  });

  test("a failed refresh keeps the value once read, but never guesses one", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    const { backend, rows, state } = fakeStore();
    const cache = new SettingsCache(backend);
    state.fail = true;
    await assert.rejects(async () => cache.retention("q"), { code: "BUSY" });
    await assert.rejects(
      async () => cache.retention("q"),
      { code: "BUSY" },
      "still nothing read: no default guessed",
    );
    state.fail = false;
    rows.set("q", { retention: { completed: 0, dead: 2 } });
    assert.deepEqual(await cache.retention("q"), { completed: 0, dead: 2 });
    state.fail = true;
    t.mock.timers.tick(5000);
    assert.deepEqual(await cache.retention("q"), { completed: 0, dead: 2 });
  });

  test("only the queues a Spool works are its to prune", async () => {
    const { backend } = fakeStore();
    const cache = new SettingsCache(backend);
    assert.deepEqual([...cache.workedQueues], []);
    cache.state("a", { completed: 1, dead: 1 });
    cache.works("b");
    await cache.retention("c");
    assert.deepEqual([...cache.workedQueues].sort(), ["a", "b", "c"]);
  });
});
