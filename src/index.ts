export type { ChannelOptions, SendOptions, StandaloneChannelOptions } from "./channel.js";
export { Receiver, Sender } from "./channel.js";
export type { SpoolErrorCode } from "./errors.js";
export { SpoolError } from "./errors.js";
export type { SpoolLogger } from "./metrics/logger.js";
export type { MetricCounters, Percentiles, QueueMetrics, SpoolMetrics } from "./metrics/snapshot.js";
export { Queue } from "./queue.js";
export type { CatchUp, ScheduleInfo, ScheduleOptions, StoredBackoff } from "./schedule.js";
export type { PayloadSchema } from "./schema.js";
export { channel, Spool } from "./spool.js";
export type {
  AddCallOptions,
  AddOptions,
  Backoff,
  Codec,
  CodecOption,
  Durability,
  FlowJob,
  FlowNode,
  FlowQueue,
  Job,
  JobInfo,
  JobProgress,
  JobState,
  QueueOptions,
  QueueSize,
  Retention,
  SpoolOptions,
  SqlClient,
  SqliteDatabase,
} from "./types.js";
export { Worker } from "./worker.js";
export type { HandlerContext, WorkerEvents, WorkerHandler, WorkerOptions } from "./worker-options.js";
