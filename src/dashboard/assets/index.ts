/*
 * The page's script and stylesheet, served as two files. The script is the browser code in
 * ./client/ (typed against the DOM), bundled at build time by scripts/build-dashboard.mjs into
 * dist/dashboard/assets/app.js: one strict-mode IIFE, so nothing leaks to `window`.
 */
import { readFileSync } from "node:fs";

export { STYLE_CSS } from "./style.js";

/**
 * Where the bundle is, from the package root, so the same path serves both from dist/ (the
 * published package, `spool dashboard`) and from src/ (the tests, run through tsx after a build).
 */
const APP_JS_FILE = new URL("../../../dist/dashboard/assets/app.js", import.meta.url);

let appJs: string | null = null;

/** The page's script, read on first use (importing the dashboard never touches the disk). */
export function appScript(): string {
  if (appJs === null) {
    try {
      appJs = readFileSync(APP_JS_FILE, "utf8");
    } catch (error) {
      // The path stays out of the message: it answers a browser's request.
      throw new Error("the dashboard's script is not built: run `npm run build`", { cause: error });
    }
  }
  return appJs;
}
