/* `spool dashboard`: serves the web dashboard over one database until Ctrl-C. */
import type { Command } from "commander";
import { isLoopbackHost } from "../../dashboard/security.js";
import type { Spool } from "../../index.js";
import { CliError, UsageError } from "../errors.js";
import { loadOptional } from "../optional.js";
import { parsePort } from "../parse.js";
import { showTarget, withSchemaOption, withSpool } from "../target.js";

interface DashboardFlags {
  port: number;
  host: string;
  token?: string;
  allowedHost?: string[];
  schema?: string;
}

/** What src/dashboard/server.ts provides; the CLI owns (opens and closes) the Spool. */
type StartDashboard = (
  spool: Spool,
  options: { port: number; host: string; token?: string; allowedHosts?: string[] },
) => Promise<{ url?: string; close?: () => unknown; address?: () => unknown }>;

export function registerDashboard(program: Command): void {
  const command = program
    .command("dashboard")
    .description("serve the web dashboard (counts, throughput, job browser, retry and purge)")
    .argument("<db>", "SQLite file or postgres:// URL")
    .option("-p, --port <port>", "port to listen on (0 picks a free one)", parsePort, 7070)
    .option("--host <host>", "address to bind; anything but loopback needs --token", "127.0.0.1")
    .option("--token <token>", "require this token (default: $SPOOL_DASHBOARD_TOKEN)")
    .option("--allowed-host <name...>", "extra Host header values to accept (this machine's DNS name)");
  withSchemaOption(command)
    .addHelpText(
      "after",
      `
Examples:
  $ spool dashboard jobs.db                      then open http://127.0.0.1:7070
  $ SPOOL_DASHBOARD_TOKEN=s3cret spool dashboard jobs.db --host 0.0.0.0`,
    )
    .action(async (db: string, flags: DashboardFlags) => {
      const token = flags.token ?? (process.env.SPOOL_DASHBOARD_TOKEN || undefined);
      if (!isLoopbackHost(flags.host) && token === undefined) {
        throw new UsageError(
          `binding to ${flags.host} would expose the dashboard to the network; give --token T (or set SPOOL_DASHBOARD_TOKEN), or keep --host 127.0.0.1.`,
        );
      }
      await withSpool(db, { create: false, schema: flags.schema }, async (spool) => {
        // Checked after the database, so a wrong path is reported first whatever this build holds.
        const startDashboard = await loadOptional<StartDashboard>(
          "../dashboard/server.js",
          "startDashboard",
          "the dashboard",
        );
        const options =
          token === undefined
            ? { port: flags.port, host: flags.host }
            : { port: flags.port, host: flags.host, token };
        if (flags.allowedHost) Object.assign(options, { allowedHosts: flags.allowedHost });
        let server: Awaited<ReturnType<StartDashboard>>;
        try {
          server = await startDashboard(spool, options);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
            throw new CliError(
              `port ${flags.port} on ${flags.host} is already in use; pick another with --port.`,
            );
          }
          throw error;
        }
        const url =
          server.url ?? `http://${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:${flags.port}`;
        process.stdout.write(`spool dashboard for ${showTarget(db)} at ${url} (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        });
        await server.close?.();
      });
    });
}
