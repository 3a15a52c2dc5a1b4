// What bench/peers/server-peers.ts uses of graphile-worker 0.17.3, for type-checking without
// the package installed (see bench/tsconfig.json). Installed, its own types replace this file.
type PromiseOrDirect<T> = T | Promise<T>;

export declare class Logger {
  constructor(logFactory: (scope: object) => (level: string, message: string) => void);
}

export interface WorkerUtils {
  addJob(identifier: string, payload?: unknown): Promise<unknown>;
  addJobs(specs: ReadonlyArray<{ identifier: string; payload: unknown }>): Promise<unknown>;
  migrate(): Promise<void>;
  release(): PromiseOrDirect<void>;
}

export interface Runner {
  stop(reason?: string): Promise<void>;
}

export type Task = (payload: unknown, helpers: unknown) => PromiseOrDirect<unknown>;

export interface RunnerOptions {
  connectionString: string;
  schema: string;
  logger: Logger;
  concurrency: number;
  noHandleSignals: boolean;
  taskList: Record<string, Task>;
  preset?: {
    worker: { localQueue: { size: number }; completeJobBatchDelay: number; failJobBatchDelay: number };
  };
}

export declare function makeWorkerUtils(options: {
  connectionString: string;
  schema: string;
  logger: Logger;
}): Promise<WorkerUtils>;

export declare function run(options: RunnerOptions): Promise<Runner>;
