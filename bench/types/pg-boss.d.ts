// What bench/peers/server-peers.ts uses of pg-boss 10.4.2, for type-checking without the
// package installed (see bench/tsconfig.json). Installed, its own types replace this file.
declare namespace PgBoss {
  interface Job<T = object> {
    id: string;
    name: string;
    data: T;
  }
  interface JobInsert<T = object> {
    name: string;
    data?: T;
  }
  interface StopOptions {
    graceful?: boolean;
    wait?: boolean;
    timeout?: number;
  }
}

declare class PgBoss {
  constructor(options: { connectionString: string; schema?: string });
  on(event: "error", handler: (error: Error) => void): this;
  start(): Promise<PgBoss>;
  stop(options?: PgBoss.StopOptions): Promise<void>;
  createQueue(name: string): Promise<void>;
  send(name: string, data: object): Promise<string | null>;
  insert(jobs: PgBoss.JobInsert[]): Promise<void>;
  fetch<T>(name: string): Promise<PgBoss.Job<T>[]>;
  complete(name: string, id: string): Promise<void>;
  work<ReqData>(name: string, handler: (jobs: PgBoss.Job<ReqData>[]) => Promise<unknown>): Promise<string>;
  offWork(name: string): Promise<void>;
}

export default PgBoss;
