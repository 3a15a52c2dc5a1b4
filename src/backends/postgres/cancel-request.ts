/*
 * Cancelling the statement a connection runs, as libpq's PQcancel does: a CancelRequest naming
 * the session's process id and secret key, on a new socket to the same server. Unlike
 * `SELECT pg_cancel_backend(pid)` from another session it needs no login and no connection
 * slot (it works with max_connections reached), no rights over the session's role (a pool that
 * logs in as one role and acts as another, `-c role=…`, may not signal its own sessions), and it
 * can reach only that session, whose secret key it names.
 */
import pg from "pg";

/** What a connected `pg` client knows of its session (set from the server's BackendKeyData). */
interface Session {
  host: string;
  port: number;
  ssl: unknown;
  sslNegotiation?: string;
  processID: number | null;
  secretKey: number | null;
}

/** The cancel-request side of `pg`'s Connection, which its typings leave out. */
interface CancelConnection {
  connect(port: number | string, host?: string): void;
  requestSsl(): void;
  cancel(processID: number, secretKey: number): void;
  on(event: "connect" | "sslconnect" | "end", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  readonly stream: { destroy(): void };
}

/**
 * Sends a cancel request for the statement `client` is running. Resolves true once the server
 * has read it (it then closes the socket), false when it could not be delivered within
 * `timeoutMs` (the pool's own bound on connecting: a server that does not answer must not hold
 * close() longer than it would a checkout). A cancel is a best effort: the server ignores one
 * that arrives while the session is idle.
 */
export function cancelStatement(client: pg.PoolClient, timeoutMs: number): Promise<boolean> {
  const session = client as unknown as Session;
  const { processID, secretKey } = session;
  if (processID === null || secretKey === null) return Promise.resolve(false);
  const ssl = session.ssl === false || session.ssl === undefined ? false : session.ssl;
  // Direct negotiation starts TLS at once, with no SSLRequest first (pg's Connection does it).
  const direct = session.sslNegotiation === "direct";
  const con = new pg.Connection({
    ssl,
    sslNegotiation: session.sslNegotiation,
  } as pg.ConnectionConfig) as unknown as CancelConnection;
  return new Promise<boolean>((resolve) => {
    let sent = false;
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref();
    function finish(delivered: boolean): void {
      clearTimeout(timer);
      con.stream.destroy();
      resolve(delivered);
    }
    con.on("error", () => finish(false));
    // The server closes the socket once it has read the request (or refused the connection).
    con.on("end", () => finish(sent));
    const send = () => {
      con.cancel(processID, secretKey);
      sent = true;
    };
    if (ssl === false) con.on("connect", send);
    else {
      if (!direct) con.on("connect", () => con.requestSsl());
      con.on("sslconnect", send);
    }
    // A Unix socket is named by its directory, as pg and libpq name it.
    if (session.host.startsWith("/")) con.connect(`${session.host}/.s.PGSQL.${session.port}`);
    else con.connect(session.port, session.host);
  });
}
