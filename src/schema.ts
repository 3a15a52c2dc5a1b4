// Payload schemas: a queue's `schema` is any Standard Schema (zod, valibot, arktype, …), and
// `add` stores what it validates to. Only the spec's types are depended on: a schema library is
// the user's choice, and Spool calls nothing but the `~standard.validate` every one of them has.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { SpoolError, show } from "./errors.js";

/** A schema as `spool.queue(name, { schema })` takes it. */
export type PayloadSchema<Input = unknown, Output = Input> = StandardSchemaV1<Input, Output>;

/** Refuses anything that is not a Standard Schema (version 1) before a queue is made with it. */
export function checkSchema(value: unknown): PayloadSchema {
  const props =
    (typeof value === "object" || typeof value === "function") && value !== null
      ? (value as { "~standard"?: unknown })["~standard"]
      : undefined;
  if (
    typeof props !== "object" ||
    props === null ||
    (props as { version?: unknown }).version !== 1 ||
    typeof (props as { validate?: unknown }).validate !== "function"
  ) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `schema must be a Standard Schema (version 1: zod, valibot, arktype, …), got ${show(value)}`,
    );
  }
  return value as PayloadSchema;
}

/** The longest issue list a message shows in full; the rest are in `cause`. */
const SHOWN_ISSUES = 3;

/**
 * Validates every payload of one add against `schema`, all before anything is written, and
 * returns the schema's outputs (what is stored: a schema may transform, e.g. fill defaults).
 * A payload that fails is INVALID_ARGUMENT naming its place in the batch and its issues, with
 * the issues themselves in `cause`; a schema that throws or answers nonsense is reported alike.
 *
 * Synchronous while the schema answers synchronously (most do): the add then encodes in the
 * same turn as the call, so a Buffer the caller rewrites after `add` returns cannot change what
 * is stored. Only an asynchronous schema makes the add wait for it.
 */
export function validatePayloads<T>(schema: PayloadSchema, given: readonly unknown[]): T[] | Promise<T[]> {
  // The caller's array as it is now: an asynchronous schema must not see it changed later.
  const payloads = [...given];
  const out: T[] = [];
  for (let index = 0; index < payloads.length; index++) {
    const result = run(schema, payloads, index);
    if (isThenable(result)) return finishAsync(schema, payloads, index, result, out);
    out.push(outcome<T>(result, payloads, index));
  }
  return out;
}

/** A promise of any realm or library (Bluebird, another vm context), not only this one's. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

async function finishAsync<T>(
  schema: PayloadSchema,
  payloads: readonly unknown[],
  from: number,
  first: PromiseLike<unknown>,
  out: T[],
): Promise<T[]> {
  out.push(outcome<T>(await settle(first, payloads, from), payloads, from));
  for (let index = from + 1; index < payloads.length; index++) {
    out.push(outcome<T>(await settle(run(schema, payloads, index), payloads, index), payloads, index));
  }
  return out;
}

function where(payloads: readonly unknown[], index: number): string {
  return payloads.length > 1 ? `payload #${index}` : "payload";
}

function threw(error: unknown, payloads: readonly unknown[], index: number): SpoolError {
  return new SpoolError(
    "INVALID_ARGUMENT",
    `the queue's schema threw while validating ${where(payloads, index)}`,
    {
      cause: error,
    },
  );
}

function run(schema: PayloadSchema, payloads: readonly unknown[], index: number): unknown {
  try {
    return schema["~standard"].validate(payloads[index]);
  } catch (error) {
    throw threw(error, payloads, index);
  }
}

async function settle(result: unknown, payloads: readonly unknown[], index: number): Promise<unknown> {
  try {
    return await result;
  } catch (error) {
    throw threw(error, payloads, index);
  }
}

/** The schema's output for one payload, or the error its result stands for. */
function outcome<T>(result: unknown, payloads: readonly unknown[], index: number): T {
  if (typeof result !== "object" || result === null) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `the queue's schema returned ${show(result)} for ${where(payloads, index)}, not a Standard Schema result`,
    );
  }
  const { issues } = result as { issues?: unknown };
  if (issues === undefined || issues === null || issues === false) {
    // A success carries its output; without one, storing "undefined" would pass a payload the
    // schema never accepted.
    if (!("value" in result)) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `the queue's schema returned a result with neither a value nor issues for ${where(payloads, index)}`,
      );
    }
    return (result as { value: T }).value;
  }
  const list = Array.isArray(issues) ? [...(issues as StandardSchemaV1.Issue[])] : [];
  // The payload itself is not shown (it may be private): its place, and the schema's words.
  throw new SpoolError(
    "INVALID_ARGUMENT",
    `${where(payloads, index)} does not match the queue's schema: ${describeIssues(list)}`,
    { cause: list },
  );
}

function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  if (issues.length === 0) return "the schema reported a failure without issues";
  const shown = issues.slice(0, SHOWN_ISSUES).map((issue) => {
    const path = pathText(issue?.path);
    const message = typeof issue?.message === "string" ? issue.message : show(issue?.message);
    return path === "" ? message : `${path}: ${message}`;
  });
  const more = issues.length > SHOWN_ISSUES ? ` (and ${issues.length - SHOWN_ISSUES} more)` : "";
  return `${shown.join("; ")}${more}`;
}

/** An issue's path as `a.b[2]`, or "" when it has none. */
function pathText(path: StandardSchemaV1.Issue["path"] | unknown): string {
  if (!Array.isArray(path)) return "";
  let text = "";
  for (const segment of path as readonly unknown[]) {
    const key =
      typeof segment === "object" && segment !== null && "key" in segment
        ? (segment as StandardSchemaV1.PathSegment).key
        : segment;
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? String(key) : `.${String(key)}`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
