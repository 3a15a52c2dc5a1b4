// Sends 0…count−1 on a channel and exits. argv: <target json> <channel> <count>
import { arg, openFromArgs, say } from "./open.js";

const spool = await openFromArgs();
const [tx] = await spool.channel<number>(arg(3));
const count = Number(arg(4));
for (let i = 0; i < count; i++) await tx.send(i);
say("sent");
await spool.close();
