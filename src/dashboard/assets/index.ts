/*
 * The page's script and stylesheet, served as two files. The script is kept in a few string
 * modules by concern and joined here into one strict-mode IIFE, so nothing leaks to `window`.
 */
import { CHART_JS } from "./client/chart.js";
import { JOBS_JS } from "./client/jobs.js";
import { MAIN_JS } from "./client/main.js";
import { OVERVIEW_JS } from "./client/overview.js";
import { UTIL_JS } from "./client/util.js";

export { STYLE_CSS } from "./style.js";

export const APP_JS = `(function () {\n"use strict";\n${[UTIL_JS, CHART_JS, OVERVIEW_JS, JOBS_JS, MAIN_JS].join("\n")}\n})();\n`;
