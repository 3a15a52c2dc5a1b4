// Where the benchmark loads Spool's compiled code from. run.mjs snapshots dist/ into bench/.dist
// before a run (another build in the same tree would otherwise delete it mid-run) and passes
// the snapshot down in SPOOL_BENCH_DIST; run alone, the children use dist/ directly. The
// snapshot sits inside the repository so its imports (better-sqlite3) resolve as dist/'s do.
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const DIST = process.env.SPOOL_BENCH_DIST ?? fileURLToPath(new URL("../dist/", import.meta.url));

/** Imports a module of the compiled package, e.g. `fromDist("bench/workloads.js")`. */
export function fromDist(path) {
  return import(pathToFileURL(join(DIST, path)).href);
}
