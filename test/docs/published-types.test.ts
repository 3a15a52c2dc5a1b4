// The published types, as a user's compiler sees them: a small program that imports every entry
// point by the package's name (through package.json "exports", so from dist/*.d.ts) compiles
// under strict settings, with the declaration files checked too (no skipLibCheck), so no
// published type refers to a member that `stripInternal` removed; and the `@internal` members
// really are gone from what a user can reach.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { repositoryRoot } from "./surface.js";

const CONSUMER = `
import { channel, Queue, Spool, SpoolError, type AddOptions, type Job, type JobInfo, type QueueOptions,
  type SpoolErrorCode, type SpoolOptions, type WorkerOptions } from "spool";
import { dashboard, startDashboard, type DashboardOptions } from "spool/dashboard";
import { openPostgres } from "spool/postgres";

interface Email { to: string }

export async function use(): Promise<void> {
  const options: SpoolOptions = { durability: "normal", busyTimeout: 1000, migrate: false };
  const spool = await Spool.open("jobs.db", options);
  const defaults: QueueOptions<Email> = { lease: 60_000, retention: { completed: 0 }, backoff: { type: "fixed", delay: 10 } };
  const queue: Queue<Email> = spool.queue<Email>("emails", defaults);
  const add: AddOptions = { priority: 1, key: "k", ttl: 1000 };
  const id: number = await queue.add({ to: "ada@example.com" }, add);
  const job: Job<Email> | null = await queue.reserve({ lease: 1000 });
  if (job !== null) {
    const token: number | undefined = job.token;
    void token;
    await queue.extend(job, 1000);
    const state: "pending" | "dead" = await queue.fail(job, new Error("x"), { retryIn: 0 });
    void state;
  }
  const info: JobInfo<Email> | null = await queue.get(id);
  void info;
  const workerOptions: WorkerOptions = { concurrency: 2, timeout: 1000 };
  const worker = queue.process(async (j, { signal, extend }) => {
    await extend(1000);
    return signal.aborted ? null : j.payload.to;
  }, workerOptions);
  worker.on("failed", (_job, _error, failedState) => void failedState);
  await worker.stop({ timeout: 0 });
  const [tx, rx] = await channel<number>("ch.db", "numbers", { maxSize: 10, durability: "full" });
  await tx.send(1, { timeout: 10 });
  const item: number | undefined = await rx.recv();
  void item;
  const handlerOptions: DashboardOptions = { basePath: "/spool" };
  dashboard(spool, handlerOptions).close();
  const running = await startDashboard(spool, { port: 0 });
  await running.close();
  const onPostgres: Spool = await openPostgres("postgres://app@db/app", { schema: "jobs", poolSize: 4 });
  await onPostgres.close();
  const error = new SpoolError("BUSY", "locked");
  const code: SpoolErrorCode = error.code;
  void code;
  await spool.close();
}

export function internalsAreNotPublished(spool: Spool, queue: Queue<Email>): void {
  // @ts-expect-error @internal: stripped from the published types
  void spool.ctx;
  // @ts-expect-error @internal: stripped from the published types
  void queue.toJob;
  // @ts-expect-error @internal: stripped from the published types
  void queue.completeHeld;
}
`;

/** Compiles `source` as a user's module in a scratch project whose node_modules/spool is this repository. */
function compileAsUser(source: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "spool-consumer-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repositoryRoot, join(dir, "node_modules", "spool"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const file = join(dir, "consumer.ts");
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(repositoryRoot, "node_modules", "@types")],
    });
    // The user's file and the published declarations; not every @types package in node_modules.
    const ours = program
      .getSourceFiles()
      .filter((f) => f.fileName === file || f.fileName.startsWith(join(repositoryRoot, "dist")));
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...ours.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
    ];
    assert.ok(ours.length > 5, "the published declarations were not reached");
    return diagnostics.map((d) => {
      const where = d.file
        ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `
        : "";
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a user's program compiles against the published types, which hold no @internal member", () => {
  assert.ok(
    existsSync(join(repositoryRoot, "dist/index.d.ts")),
    "dist/ is missing: run `npm run build` first",
  );
  assert.deepEqual(compileAsUser(CONSUMER), []);
});

test("the classes a user gets from the library cannot be constructed from the published types", () => {
  const source = `
import { Queue, Receiver, Sender, Worker } from "spool";
// @ts-expect-error use spool.queue()
new Queue();
// @ts-expect-error use queue.process()
new Worker();
// @ts-expect-error use spool.channel()
new Sender();
// @ts-expect-error use spool.channel()
new Receiver();
`;
  assert.deepEqual(compileAsUser(source), []);
});
