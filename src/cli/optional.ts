/*
 * Loads a part of Spool that ships separately from the CLI's core (the dashboard, the benchmark)
 * only when its command runs, so the CLI starts fast and works even where that part is absent.
 */
import { CliError, describeError } from "./errors.js";

/**
 * Imports `relative` (to dist/cli/) and returns the named export, or explains what is missing.
 * A missing dependency *inside* the module is reported as it is, not as the module missing.
 */
export async function loadOptional<F>(relative: string, exportName: string, what: string): Promise<F> {
  const url = new URL(relative, import.meta.url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes(url.pathname)) {
      throw new CliError(`${what} is not part of this build of spool (${relative} is missing).`);
    }
    throw new CliError(`cannot load ${what}: ${describeError(error)}`);
  }
  const fn = mod[exportName];
  if (typeof fn !== "function")
    throw new CliError(`${what} does not export ${exportName}(); this build is broken.`);
  return fn as F;
}
