// Cross-process wake-ups for one SQLite file (the Notifier; PostgreSQL's, in its notifier.ts,
// is LISTEN/NOTIFY). Every commit by any process appends to the WAL, so a watch on the
// database's directory (which survives the WAL being deleted and recreated) tells us the file
// moved; PRAGMA data_version then says whether another connection committed,
// which filters out our own writes. Best effort: pollers stay the safety net.
//
// Two details shape it:
// - The WAL write that fires the watch comes before the commit is published (the wal-index in
//   shared memory is updated after the frames, and after their fsync at `full`; shared memory
//   fires no event). So one check at the event can miss the commit: after an event the version
//   is re-checked every few ms for a short while (the "hot" period).
// - Our own commits fire the watch too, one event per commit: in a busy process that costs
//   more than the commits' SQL. So during the hot period the watch is closed (the re-checks
//   see everything), and it is opened again, with one more check, when the period ends.
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Notifier } from "../../backend.js";
import type { SpoolLogger } from "../../metrics/logger.js";
import type { Connection, Statement } from "./driver.js";

/** How long after file activity the version is re-checked instead of watched, and how often. */
const HOT_MS = 200;
const RECHECK_MS = 3;

export class WalNotifier implements Notifier {
  private readonly listeners = new Set<(queue: string | null) => void>();
  private watcher: FSWatcher | null = null;
  private lastVersion: number;
  private checking: NodeJS.Timeout | null = null;
  private hotUntil = 0;
  private readonly dir: string;
  private readonly file: string;
  private enabled: boolean;
  /** Prepared once: it runs every few ms while the file is busy (db.pragma would prepare anew). */
  private readonly version: Statement;
  /** Told when the file watch fails and wake-ups fall back to polling (the Spool's logger). */
  logger?: SpoolLogger;

  constructor(
    private readonly db: Connection,
    path: string,
    enabled: boolean,
  ) {
    this.version = db.preparePluck("PRAGMA data_version");
    this.lastVersion = this.dataVersion();
    this.dir = dirname(path);
    this.file = basename(path);
    this.enabled = enabled && path !== ":memory:";
    this.startWatching();
  }

  subscribe(listener: (queue: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Tells this process's listeners of a change the store made by itself, beyond the queue of
   * the call that made it (a completion that released waiting jobs of any queue), as the watch
   * tells them of another process's commits.
   */
  changedHere(queue: string): void {
    for (const listener of this.listeners) listener(queue);
  }

  announce(): void {
    // Other processes learn of our commits from the file itself.
  }

  private startWatching(): void {
    if (!this.enabled || this.watcher !== null) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
        if (name === null || name.startsWith(this.file)) this.heat();
      });
      this.watcher.on("error", (error) => {
        this.logger?.warn(
          { err: error.message },
          "spool file watch failed; wake-ups from other processes fall back to polling",
        );
        this.enabled = false;
        this.stopWatching();
      });
    } catch {
      this.enabled = false; // No watch on this platform or filesystem: polling serves alone.
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private dataVersion(): number {
    try {
      return this.version.get() as number;
    } catch {
      return this.lastVersion;
    }
  }

  /** File activity: re-check for a while instead of hearing about every commit. */
  private heat(): void {
    this.hotUntil = Date.now() + HOT_MS;
    this.stopWatching();
    if (this.checking === null) this.checking = setTimeout(() => this.check(), 0);
  }

  private check(): void {
    this.checking = null;
    if (!this.db.isOpen) return;
    const version = this.dataVersion();
    if (version !== this.lastVersion) {
      this.lastVersion = version;
      this.hotUntil = Date.now() + HOT_MS;
      for (const listener of this.listeners) listener(null);
    }
    if (Date.now() < this.hotUntil) {
      this.checking = setTimeout(() => this.check(), RECHECK_MS);
      return;
    }
    // Back to watching; a commit that landed while no watch was open is caught by one more look.
    this.startWatching();
    if (this.dataVersion() !== this.lastVersion) this.heat();
  }

  close(): void {
    if (this.checking !== null) clearTimeout(this.checking);
    this.checking = null;
    this.enabled = false;
    this.stopWatching();
    this.listeners.clear();
  }
}
