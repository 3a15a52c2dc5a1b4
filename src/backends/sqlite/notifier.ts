// Cross-process wake-ups for one SQLite file. Every commit by any process appends to the WAL,
// so a watch on the database's directory (which survives the WAL being deleted and recreated)
// tells us the file moved; PRAGMA data_version then says whether another connection committed,
// which filters out our own writes. Best effort: pollers stay the safety net.
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type Database from "better-sqlite3";
import type { Notifier } from "../../backend.js";

export class WalNotifier implements Notifier {
  private readonly listeners = new Set<(queue: string | null) => void>();
  private watcher: FSWatcher | null = null;
  private lastVersion: number;
  private checkScheduled = false;

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

  /** Many events arrive per commit; one check per turn of the event loop is enough. */
  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      if (!this.db.open) return;
      const version = this.dataVersion();
      if (version === this.lastVersion) return;
      this.lastVersion = version;
      for (const listener of this.listeners) listener(null);
    });
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  close(): void {
    this.stopWatching();
    this.listeners.clear();
  }
}
