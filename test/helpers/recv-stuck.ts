// Receives a batch from a channel whose codec hangs, forever, on an item starting with "bad":
// the parent SIGKILLs it there, in the middle of the receive. argv: <target json> <channel>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const [, rx] = await spool.channel<string>(arg(3), {
  codec: {
    encode: (s) => Buffer.from(s, "utf8"),
    decode: (bytes) => {
      const s = Buffer.from(bytes).toString("utf8");
      if (s.startsWith("bad")) {
        say("stuck");
        // Blocks the thread for good: nothing after this line of the receive ever runs.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      return s;
    },
  },
});
say("ready");
await rx.recvBatch(10);
say("received");
