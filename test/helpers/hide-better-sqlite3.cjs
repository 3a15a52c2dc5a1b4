// Preloaded (node --require) by driver tests: makes better-sqlite3 unresolvable in this process,
// as after `npm install --omit=optional`.
const Module = require("node:module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "better-sqlite3") {
    const error = new Error("Cannot find module 'better-sqlite3'");
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
