/*
 * The subjects the quick benchmark knows, by name, so a producer child process can open the
 * same store as its parent.
 */
import { openRaw, openRawGuarded } from "./raw.js";
import { openSpool } from "./spool-subject.js";
import type { Subject, SubjectOptions } from "./subject.js";

export function openSubject(name: string, options: SubjectOptions): Promise<Subject> {
  if (name === "raw") return openRaw(options);
  if (name === "raw-guarded") return openRawGuarded(options);
  if (name === "spool") return openSpool(options);
  return Promise.reject(new Error(`unknown benchmark subject "${name}": expected raw, raw-guarded or spool`));
}
