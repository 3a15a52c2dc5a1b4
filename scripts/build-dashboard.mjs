// Bundles the dashboard's browser code (src/dashboard/assets/client/, type-checked by its own
// tsconfig) into the one script the page loads, dist/dashboard/assets/app.js, where
// src/dashboard/assets/index.ts reads it. An IIFE in strict mode, as the page had it when the
// script was hand-joined, so nothing leaks to `window` (esbuild writes "use strict" because the
// client tsconfig is strict). Not minified, so it reads as it was written.
import { build } from "esbuild";

await build({
  entryPoints: ["src/dashboard/assets/client/main.ts"],
  outfile: "dist/dashboard/assets/app.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  logLevel: "warning",
});
