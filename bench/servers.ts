// Checks the local Redis and PostgreSQL before the run: whether each answers, and the settings
// that decide how durable an acknowledged job is there, printed beside those peers' numbers.
import { Redis } from "ioredis";
import pg from "pg";
import type { ServerFacts } from "./document.js";
import { PG_URL, REDIS } from "./peers/server-peers.js";

export async function serverFacts(): Promise<{ redis: ServerFacts; postgres: ServerFacts }> {
  return { redis: await redisFacts(), postgres: await postgresFacts() };
}

async function redisFacts(): Promise<ServerFacts> {
  const redis = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    // CONFIG GET answers [name, value].
    const setting = async (name: string): Promise<string | undefined> =>
      ((await redis.config("GET", name)) as string[])[1];
    const appendonly = await setting("appendonly");
    const appendfsync = await setting("appendfsync");
    const save = await setting("save");
    const version = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
    const persisted =
      appendonly === "yes"
        ? `AOF on, fsync ${appendfsync}`
        : save
          ? `RDB snapshots only (${save}): recent jobs lost on a crash`
          : "no AOF, no snapshots: jobs live in memory only";
    return { version, durability: `Redis ${version}: ${persisted}` };
  } catch (error) {
    return { unreachable: `Redis not reachable at ${REDIS.host}:${REDIS.port} (${messageOf(error)})` };
  } finally {
    redis.disconnect();
  }
}

/** Connects to the bench database, creating it (through the server's default database) if missing. */
async function postgresFacts(): Promise<ServerFacts> {
  const url = new URL(PG_URL);
  const database = url.pathname.slice(1);
  try {
    const admin = new pg.Client({ connectionString: PG_URL.replace(/\/[^/]*$/, "/postgres") });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, "")}"`);
      const show = async (name: string): Promise<string> =>
        String((await admin.query<Record<string, unknown>>(`SHOW ${name}`)).rows[0]?.[name]);
      const version = await show("server_version");
      const synchronousCommit = await show("synchronous_commit");
      const fsync = await show("fsync");
      return {
        version,
        durability: `PostgreSQL ${version}: synchronous_commit=${synchronousCommit}, fsync=${fsync}`,
      };
    } finally {
      await admin.end();
    }
  } catch (error) {
    return { unreachable: `PostgreSQL not reachable at ${url.host} (${messageOf(error)})` };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
