// Shared by the child scripts: opens the store the parent test names in argv[2] (JSON).
import { createInterface } from "node:readline";
import { Spool, SpoolError } from "../../src/index.js";
import type { SpoolOptions } from "../../src/types.js";

export async function openFromArgs(): Promise<Spool> {
  const { target, options } = JSON.parse(process.argv[2] ?? "{}") as {
    target: string;
    options: SpoolOptions;
  };
  return Spool.open(target, options);
}

/** Prints one line to the parent (stdout to a pipe is synchronous on Linux: seen before a kill). */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Resolves when the parent writes `word` on stdin. */
export function heard(word: string): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (l) => {
      if (l.trim() === word) {
        rl.close();
        resolve();
      }
    });
  });
}

export function codeOf(err: unknown): string {
  return err instanceof SpoolError ? err.code : `non-spool error: ${String(err)}`;
}

export function arg(i: number): string {
  const v = process.argv[i];
  if (v === undefined) throw new Error(`missing argument ${i}`);
  return v;
}
