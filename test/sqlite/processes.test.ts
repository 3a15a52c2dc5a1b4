// Real child processes and real signals on one SQLite file.
import { describe } from "node:test";
import { processConformance, sqliteFileFixture } from "../conformance/index.js";

const fixture = sqliteFileFixture();
describe(fixture.name, () => processConformance(fixture));
