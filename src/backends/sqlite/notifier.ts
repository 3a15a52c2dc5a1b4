// Cross-process wake-ups for one SQLite file. Every commit by any process appends to the WAL,
// so a watch on the database's directory (which survives the WAL being deleted and recreated)
// tells us the file moved; PRAGMA data_version then says whether another connection committed,
// which filters out our own writes. Best effort: pollers stay the safety net.
//
// The WAL write that fires the watch comes before the commit is published (the wal-index in
// shared memory is updated after the frames, and after their fsync at `full`; shared memory
// fires no event). So one check at the event can miss the commit: after each event the version
// is re-checked every few ms for a short while.
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type Database from "better-sqlite3";
import type { Notifier } from "../../backend.js";

/** How long after a file event the version keeps being re-checked, and how often. */
const HOT_MS = 200;
const RECHECK_MS = 3;

export class WalNotifier implements Notifier {
  private readonly listeners = new Set<(queue: string | null) => void>();
  private watcher: FSWatcher | null = null;
  private lastVersion: number;
  private checking: NodeJS.Timeout | null = null;
  private hotUntil = 0;

  constructor(
    private readonly db: Database.Database,
    path: string,
    enabled: boolean,
  ) {
    this.lastVersion = this.dataVersion();
    if (!enabled || path === ":memory:") return;
    const file = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || name.startsWith(file)) this.scheduleCheck();
      });
      this.watcher.on("error", () => this.stopWatching());
    } catch {
      this.watcher = null; // No watch on this platform or filesystem: polling serves alone.
    }
  }

  subscribe(listener: (queue: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announce(): void {
    // Other processes learn of our commits from the file itself.
  }

  private dataVersion(): number {
    try {
      return this.db.pragma("data_version", { simple: true }) as number;
    } catch {
      return this.lastVersion;
    }
  }

  /** Many events arrive per commit: one short series of checks covers them all. */
  private scheduleCheck(): void {
    this.hotUntil = Date.now() + HOT_MS;
    if (this.checking === null) this.checking = setTimeout(() => this.check(), 0);
  }

  private check(): void {
    this.checking = null;
    if (!this.db.open) return;
    const version = this.dataVersion();
    if (version !== this.lastVersion) {
      this.lastVersion = version;
      for (const listener of this.listeners) listener(null);
    }
    if (Date.now() < this.hotUntil) this.checking = setTimeout(() => this.check(), RECHECK_MS);
  }

  private stopWatching(): void {
    if (this.checking !== null) clearTimeout(this.checking);
    this.checking = null;
    this.watcher?.close();
    this.watcher = null;
  }

  close(): void {
    this.stopWatching();
    this.listeners.clear();
  }
}
