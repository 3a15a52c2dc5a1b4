// The resolve hook of refuse-peers.mjs. With SPOOL_PEERS_LOG set, the optional peers resolve as
// usual and each resolution is appended to that file instead (which of them a program loads).
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  if (/^(prom-client|@opentelemetry\/)/.test(specifier)) {
    const log = process.env.SPOOL_PEERS_LOG;
    if (log) {
      appendFileSync(log, `${specifier}\n`);
      return next(specifier, context);
    }
    const error = new Error(`Cannot find package '${specifier}' (hidden by the test)`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
