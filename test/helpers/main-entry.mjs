// Uses the built main entry the way an application that never asked for metrics would: opens a
// store, adds, runs a worker, reads spool.metrics(), closes. Prints "done".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { Spool } = await import(new URL("../../dist/index.js", import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), "spool-main-entry-"));
try {
  const spool = await Spool.open(join(dir, "jobs.db"));
  const queue = spool.queue("q");
  await queue.addBatch([1, 2]);
  await new Promise((resolve, reject) => {
    let done = 0;
    const worker = queue.process(() => {});
    worker.on("completed", () => {
      if (++done === 2) worker.stop().then(resolve, reject);
    });
  });
  await spool.metrics();
  await spool.close();
  console.log("done");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
