// The conformance suite on SQLite: a file in a fresh temp directory, and ":memory:".
import { describe } from "node:test";
import { conformance, sqliteFileFixture, sqliteMemoryFixture } from "../conformance/index.js";

for (const fixture of [sqliteFileFixture(), sqliteMemoryFixture()]) {
  describe(fixture.name, () => conformance(fixture));
}
