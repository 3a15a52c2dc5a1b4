// Opens a Spool on argv[2] with no driver named, adds and reads back one job, and prints the
// outcome as one JSON line: which driver tests use with better-sqlite3 hidden (see driver.test.ts).
import { Spool, SpoolError } from "../../src/index.js";

try {
  const spool = await Spool.open(process.argv[2] as string, { durability: "normal" });
  const q = spool.queue<Buffer>("q");
  const id = await q.add(Buffer.from("ok"));
  const job = await q.get(id);
  await spool.close();
  console.log(JSON.stringify({ ok: Buffer.isBuffer(job?.payload) && job.payload.toString() }));
} catch (error) {
  const e = error as SpoolError;
  console.log(JSON.stringify({ code: e instanceof SpoolError ? e.code : null, message: e.message }));
}
