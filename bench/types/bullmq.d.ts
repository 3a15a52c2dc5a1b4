// What bench/peers/server-peers.ts uses of bullmq 6.7.0, for type-checking without the package
// installed (see bench/tsconfig.json). Installed, its own types replace this file.
export interface ConnectionOptions {
  host?: string;
  port?: number;
  maxRetriesPerRequest?: number | null;
}

export declare class Job<DataType = unknown> {
  data: DataType;
  moveToCompleted(returnValue: unknown, token: string, fetchNext?: boolean): Promise<unknown>;
}

export declare class Queue<DataType = unknown> {
  constructor(name: string, opts: { connection: ConnectionOptions });
  add(name: string, data: DataType): Promise<Job<DataType>>;
  addBulk(jobs: Array<{ name: string; data: DataType }>): Promise<Array<Job<DataType>>>;
  obliterate(opts?: { force?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export declare class Worker<DataType = unknown> {
  constructor(
    name: string,
    processor: ((job: Job<DataType>) => Promise<unknown>) | null,
    opts: { connection: ConnectionOptions; autorun?: boolean; concurrency?: number },
  );
  getNextJob(token: string, opts?: { block?: boolean }): Promise<Job<DataType>>;
  on(event: "error", listener: (error: Error) => void): this;
  close(force?: boolean): Promise<void>;
}

// Its PostgreSQL backend (bench/peers/pg-peers.ts).
export interface PostgresPoolConfig {
  connectionString?: string;
  schema?: string;
  migrate?: boolean;
}

export interface BackendFactory<C> {
  readonly connection?: C;
}

export declare const createPostgresBackend: BackendFactory<PostgresPoolConfig>;

export declare function withBackend<C>(factory: BackendFactory<C>): {
  Queue: new <D = unknown>(
    name: string,
    opts: { connection: C },
  ) => Queue<D> & { waitUntilReady(): Promise<void> };
  Worker: new <D = unknown>(
    name: string,
    processor: ((job: Job<D>) => Promise<unknown>) | null,
    opts: { connection: C; autorun?: boolean; concurrency?: number },
  ) => Worker<D>;
};
