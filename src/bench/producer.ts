/*
 * The producer child process of the cross-process latency workload: opens the same store as
 * its parent through a module exporting `openSubject`, adds `n` jobs `gapMs` apart, each
 * stamped with the wall-clock time just before its add call, then exits.
 */
import { pathToFileURL } from "node:url";
import { epochNow, sleep, smallPayload } from "./stats.js";
import type { OpenSubject, SubjectOptions } from "./subject.js";

interface ProducerSpec {
  /** Path of an ES module exporting `openSubject`. */
  module: string;
  subject: string;
  options: SubjectOptions;
  n: number;
  gapMs: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ProducerSpec;
  const mod = (await import(pathToFileURL(spec.module).href)) as { openSubject: OpenSubject };
  const subject = await mod.openSubject(spec.subject, { ...spec.options, role: "producer" });
  for (let i = 0; i < spec.n; i++) {
    await subject.addOne(smallPayload(i, epochNow()));
    await sleep(spec.gapMs);
  }
  await subject.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `producer: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
