/*
 * The page's script: the browser code in ./client/ bundled into one strict-mode IIFE.
 *
 * It must travel with the code, as a string, not as a file beside it: an application that
 * bundles its server (esbuild, ncc, a serverless build) takes the modules it imports and
 * nothing else. So the build (scripts/build-dashboard.mjs) calls `bundleAppScript` below and
 * replaces this module in dist/ with one that returns the bundle as a literal. Run from source
 * (the tests, a checkout under tsx), this module bundles on first use with esbuild, a
 * development dependency, so the script served is never older than the code.
 */
import { fileURLToPath } from "node:url";

let script: Promise<string> | null = null;

/** The page's script, bundled once per process on first use. */
export function appScript(): Promise<string> {
  script ??= bundleAppScript(fileURLToPath(new URL("./client/main.ts", import.meta.url))).catch(
    (error: unknown) => {
      script = null; // a later request tries again
      throw error;
    },
  );
  return script;
}

/** Bundles the client from its entry module: the build and the source run share these options. */
export async function bundleAppScript(entry: string): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "warning",
  });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error("esbuild produced no output for the dashboard's script");
  return file.text;
}
