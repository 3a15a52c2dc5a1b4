// A Spool on a SQLite file in a directory of its own, closed and removed when the test ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spool } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";

export async function openTempSpool(
  t: { after: (fn: () => unknown) => void },
  options: SpoolOptions = { durability: "normal" },
): Promise<Spool> {
  const dir = mkdtempSync(join(tmpdir(), "spool-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = await Spool.open(join(dir, "q.db"), options);
  t.after(() => spool.close());
  return spool;
}
