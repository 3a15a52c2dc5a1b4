/*
 * Where the peer comparison finds the repository. Its code runs compiled, from
 * bench/.build/bench/, so a fixed "../" from a module would point at the build output, not
 * the repository: look upward for the folder that holds bench/package.json instead.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "bench", "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root (a folder with bench/package.json)");
    dir = parent;
  }
  return dir;
}

/** The repository root. */
export const ROOT = findRoot();
/** bench/ in the repository (not its build output): results, the liteque package. */
export const BENCH = join(ROOT, "bench");
