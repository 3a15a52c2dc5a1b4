/* The machine a run was taken on, printed beside every figure: numbers mean little without it. */
import { cpus, totalmem } from "node:os";

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  /** Bun's version when the run was on Bun (`node` is then the Node version Bun reports). */
  bun?: string;
  platform: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    ...(process.versions.bun === undefined ? {} : { bun: process.versions.bun }),
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.bun === undefined ? `Node ${m.node}` : `Bun ${m.bun}`}, ${m.platform}, ${m.date.slice(0, 10)}`;
}
