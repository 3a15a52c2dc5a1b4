// What bench/peers/pgboss-current.ts uses of the newest pg-boss (12.x), for type-checking without
// bench/node24/node_modules (see bench/node24/tsconfig.json). Installed, its own types replace this.
export interface Job<T = object> {
  id: string;
  name: string;
  data: T;
}
export interface JobInsert<T = object> {
  data?: T;
}
export interface StopOptions {
  graceful?: boolean;
  timeout?: number;
}

export declare class PgBoss {
  constructor(options: { connectionString: string; schema?: string });
  on(event: "error", handler: (error: Error) => void): this;
  start(): Promise<this>;
  stop(options?: StopOptions): Promise<void>;
  createQueue(name: string): Promise<void>;
  send(name: string, data?: object | null): Promise<string | null>;
  insert(name: string, jobs: JobInsert[]): Promise<string[] | null>;
  fetch<T>(name: string): Promise<Job<T>[]>;
  complete(name: string, id: string): Promise<unknown>;
  work<ReqData>(name: string, handler: (jobs: Job<ReqData>[]) => Promise<unknown>): Promise<string>;
  offWork(name: string): Promise<void>;
}
