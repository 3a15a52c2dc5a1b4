/* Reading NDJSON: stdin line by line without loading it whole, so exports of any size import. */
import { createInterface } from "node:readline";

/**
 * Yields each line (without its line ending) with its 1-based number. When `signal` aborts,
 * the reader closes and the iteration ends after the line in hand: destroying the input alone
 * would leave the iterator pending forever (and Node exiting 13 with nothing said).
 */
export async function* readLines(
  input: NodeJS.ReadableStream,
  signal?: AbortSignal,
): AsyncGenerator<{ line: string; number: number }> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  const stop = () => reader.close();
  if (signal?.aborted) return;
  signal?.addEventListener("abort", stop, { once: true });
  let number = 0;
  try {
    for await (const line of reader) {
      if (signal?.aborted) return;
      number += 1;
      yield { line, number };
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    reader.close();
  }
}
