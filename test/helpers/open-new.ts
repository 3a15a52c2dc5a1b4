// Opens the SQLite files the parent names, one per stdin line `open <round> <path>`, as soon as
// the line arrives (the parent writes it to every child at once), and prints
// `round <n> ok` or `round <n> error <code> <message>`. Spawned once, used for many rounds.
import { createInterface } from "node:readline";
import { Spool } from "../../src/index.js";
import { codeOf, say } from "./open.js";

createInterface({ input: process.stdin }).on("line", async (line) => {
  const [word, round, path] = line.trim().split(" ");
  if (word !== "open" || path === undefined) return;
  try {
    const spool = await Spool.open(path);
    await spool.close();
    say(`round ${round} ok`);
  } catch (error) {
    say(`round ${round} error ${codeOf(error)} ${(error as Error).message}`);
  }
});
say("ready");
