// What bench/servers.ts uses of ioredis 5.11.1, for type-checking without the package
// installed (see bench/tsconfig.json). Installed, its own types replace this file.
export interface RedisOptions {
  host?: string;
  port?: number;
  lazyConnect?: boolean;
  connectTimeout?: number;
  maxRetriesPerRequest?: number | null;
}

export declare class Redis {
  constructor(options: RedisOptions);
  on(event: "error", listener: (error: Error) => void): this;
  connect(): Promise<void>;
  config(subcommand: "GET", parameter: string): Promise<unknown>;
  info(section: string): Promise<string>;
  disconnect(): void;
}
