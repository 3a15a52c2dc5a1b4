// What bench/peers/sqlite-peers.ts uses of liteque 0.8.0, for type-checking without the package
// installed (see bench/tsconfig.json). Installed, its own types replace this file.

/** A row of its tasks table, as its enqueue writes it. */
export interface TaskInsert {
  queue: string;
  payload: string;
  numRunsLeft: number;
  maxNumRuns: number;
  allocationId: string;
  priority: number;
  availableAt: Date;
}

interface TasksTable {
  readonly name: "tasks";
}

/** Its drizzle database: only the parts the benchmark touches. */
export interface LitequeDatabase {
  _: { fullSchema: { tasksTable: TasksTable } };
  insert(table: TasksTable): { values(rows: TaskInsert[]): { run(): unknown } };
}

export interface Job {
  id: number;
  allocationId: string;
}

export interface DequeuedJob<T> {
  id: string;
  data: T;
}

export declare function buildDBClient(dbPath: string, options?: { runMigrations?: boolean }): LitequeDatabase;

export declare class SqliteQueue<T> {
  constructor(
    name: string,
    db: LitequeDatabase,
    options: { defaultJobArgs: { numRetries: number }; keepFailedJobs: boolean },
  );
  enqueue(payload: T): Promise<Job | undefined>;
  attemptDequeue(options: { timeoutSecs: number }): Promise<Job | null>;
  finalize(id: number, allocationId: string, status: "completed" | "pending_retry" | "failed"): Promise<void>;
}

export declare class Runner<T> {
  constructor(
    queue: SqliteQueue<T>,
    funcs: { run: (job: DequeuedJob<T>) => Promise<void> },
    opts: { pollIntervalMs: number; timeoutSecs: number; concurrency: number },
  );
  run(): Promise<void>;
  stop(): void;
}
