// Adds one job and exits. argv: <target json> <queue> <payload json>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const id = await spool.queue(arg(3)).add(JSON.parse(arg(4)));
say(`added ${id}`);
await spool.close();
