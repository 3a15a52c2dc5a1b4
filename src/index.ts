export type { Backend, BackendFactory, BackendOptions, Notifier, StoredJob } from "./backend.js";
export type { ChannelOptions, SendOptions, StandaloneChannelOptions } from "./channel.js";
export { channel, Receiver, Sender } from "./channel.js";
export type { SpoolErrorCode } from "./errors.js";
export { SpoolError } from "./errors.js";
export { Queue } from "./queue.js";
export { Spool } from "./spool.js";
export type {
  AddOptions,
  Backoff,
  Codec,
  CodecOption,
  Durability,
  Job,
  JobInfo,
  JobState,
  QueueOptions,
  QueueSize,
  Retention,
  SpoolOptions,
} from "./types.js";
export type { HandlerContext, WorkerEvents, WorkerHandler, WorkerOptions } from "./worker.js";
export { Worker } from "./worker.js";
