// Loaded with --import: makes prom-client and every @opentelemetry package unresolvable in
// this process, as in an application that installed neither optional peer.
import { register } from "node:module";

register(new URL("./refuse-peers-hooks.mjs", import.meta.url));
