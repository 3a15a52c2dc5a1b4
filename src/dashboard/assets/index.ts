/*
 * The page's script and stylesheet, served as two files. The script is the browser code in
 * ./client/ (typed against the DOM), bundled into one strict-mode IIFE so nothing leaks to
 * `window`: see ./app-script.ts for how it travels with the code.
 */
export { appScript } from "./app-script.js";
export { STYLE_CSS } from "./style.js";
