// Checks the local Redis and PostgreSQL before the run: whether each answers, and the settings
// that decide how durable an acknowledged job is there, printed beside those peers' numbers.
import { Redis } from "ioredis";
import pg from "pg";
import { PG_URL, REDIS } from "./peers/server-peers.mjs";

export async function serverFacts() {
  return { redis: await redisFacts(), postgres: await postgresFacts() };
}

async function redisFacts() {
  const redis = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const [, appendonly] = await redis.config("GET", "appendonly");
    const [, appendfsync] = await redis.config("GET", "appendfsync");
    const [, save] = await redis.config("GET", "save");
    const version = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
    const persisted =
      appendonly === "yes"
        ? `AOF on, fsync ${appendfsync}`
        : save
          ? `RDB snapshots only (${save}): recent jobs lost on a crash`
          : "no AOF, no snapshots: jobs live in memory only";
    return { version, durability: `Redis ${version}: ${persisted}` };
  } catch (error) {
    return { unreachable: `Redis not reachable at ${REDIS.host}:${REDIS.port} (${error.message})` };
  } finally {
    redis.disconnect();
  }
}

/** Connects to the bench database, creating it (through the server's default database) if missing. */
async function postgresFacts() {
  const url = new URL(PG_URL);
  const database = url.pathname.slice(1);
  try {
    const admin = new pg.Client({ connectionString: PG_URL.replace(/\/[^/]*$/, "/postgres") });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, "")}"`);
      const settings = {};
      for (const name of ["server_version", "synchronous_commit", "fsync"]) {
        settings[name] = (await admin.query(`SHOW ${name}`)).rows[0][name];
      }
      return {
        version: settings.server_version,
        durability: `PostgreSQL ${settings.server_version}: synchronous_commit=${settings.synchronous_commit}, fsync=${settings.fsync}`,
      };
    } finally {
      await admin.end();
    }
  } catch (error) {
    return { unreachable: `PostgreSQL not reachable at ${url.host} (${error.message})` };
  }
}
