// GET /metrics: the dashboard's Spool in the Prometheus text format, behind the same Host and
// token rules as every other route (server.ts checks them first). prom-client is an optional
// peer, loaded here on the first scrape: without it the route answers 501 and says why.
import type { ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Spool } from "../spool.js";
import { sendText } from "./http.js";

/** One registry per Spool served, made on the first scrape; null when prom-client is missing. */
const registries = new WeakMap<Spool, Promise<Registry | null>>();

async function registryFor(spool: Spool): Promise<Registry | null> {
  let found = registries.get(spool);
  if (found === undefined) {
    found = (async () => {
      try {
        const [{ Registry }, { collectMetrics }] = await Promise.all([
          import("prom-client"),
          import("../prometheus.js"),
        ]);
        const registry = new Registry();
        collectMetrics(spool, { registry });
        return registry;
      } catch (error) {
        if ((error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND") return null;
        throw error;
      }
    })();
    registries.set(spool, found);
  }
  return found;
}

/** Answers a scrape: the metrics, or 501 when prom-client is not installed. */
export async function serveMetrics(spool: Spool, res: ServerResponse): Promise<void> {
  const registry = await registryFor(spool);
  if (registry === null) {
    return sendText(res, 501, "/metrics needs prom-client: npm install prom-client\n");
  }
  const text = await registry.metrics();
  res.writeHead(200, {
    "Content-Type": registry.contentType,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}
