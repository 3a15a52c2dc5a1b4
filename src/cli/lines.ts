/* Reading NDJSON: stdin line by line without loading it whole, so exports of any size import. */
import { createInterface } from "node:readline";

/** Yields each line (without its line ending) with its 1-based number. */
export async function* readLines(
  input: NodeJS.ReadableStream,
): AsyncGenerator<{ line: string; number: number }> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let number = 0;
  for await (const line of reader) {
    number += 1;
    yield { line, number };
  }
}
