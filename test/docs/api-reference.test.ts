// docs/api.md cannot go stale: every export, public method, option key, error code, CLI command
// and flag the code has must be documented there, each in its own section. The lists come from
// the code (test/docs/surface.ts and the built CLI's own --help), never from a list kept here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { codeSpans, escapeRegExp, headingNames, type Section, sections } from "./markdown.js";
import { readSurface, repositoryRoot, type Surface } from "./surface.js";

const doc = readFileSync(join(repositoryRoot, "docs/api.md"), "utf8");
const all = sections(doc);
let surface: Surface;

before(async () => {
  surface = await readSurface(repositoryRoot);
});

/** The section whose heading names `name` as code (`Queue<T>`, `spool add <db>`). */
function sectionNaming(name: string): Section | undefined {
  return all.find((s) => headingNames(s.heading, name));
}

function spansOf(section: Section | string): string[] {
  return codeSpans(typeof section === "string" ? section : section.body);
}

/** `name` shown as a word of some code span: `queue.lease`, `lease`, `{ lease?: number }`. */
function showsWord(spans: string[], name: string): boolean {
  const word = new RegExp(`(^|[^\\w$])${escapeRegExp(name)}(?![\\w$])`);
  return spans.some((span) => word.test(span));
}

/** A method shown called: `add(payload, options?)`, `Spool.open(target)`, `rx[Symbol.asyncIterator]()`. */
function showsCall(spans: string[], name: string): boolean {
  const before = name.startsWith("[") ? "" : "(^|[^\\w$])";
  const call = new RegExp(`${before}${escapeRegExp(name)}(<[^>]*>)?\\(`);
  return spans.some((span) => call.test(span));
}

/** An option key shown as itself (`lease`) or as a field (`lease?: number`, `type: "fixed"`). */
function showsKey(spans: string[], key: string): boolean {
  const field = new RegExp(`(^|[^\\w$])${escapeRegExp(key)}\\??\\s*:`);
  return spans.some((span) => span === key || field.test(span));
}

function missing(what: string, names: string[]): void {
  assert.deepEqual(names, [], `docs/api.md does not document ${what}: ${names.join(", ")}`);
}

test("the surface read from the code is the one the package has", () => {
  // Guards the reader itself: if it found nothing, every check below would pass vacuously.
  assert.ok(surface.entryPoints.get("spool")?.includes("Spool"));
  const queue = surface.classes.find((c) => c.name === "Queue");
  assert.ok(queue?.methods.includes("reserve"));
  assert.ok(!queue?.methods.includes("toJob"), "an @internal method counts as public");
  assert.ok(surface.options.get("SpoolOptions")?.keys.has("durability"));
  assert.ok(surface.errorCodes.includes("LEASE_LOST"));
});

test("every entry point and every name it exports is documented", () => {
  const absent: string[] = [];
  for (const [importPath, names] of surface.entryPoints) {
    if (!showsWord(spansOf(doc), importPath)) absent.push(`the entry point ${importPath}`);
    for (const name of names) {
      if (!spansOf(doc).some((span) => new RegExp(`^${escapeRegExp(name)}(?![\\w$])`).test(span))) {
        absent.push(`${name} (from ${importPath})`);
      }
    }
  }
  missing("these exports", absent);
});

test("every public member of every exported class is documented in the class's section", () => {
  const absent: string[] = [];
  for (const cls of surface.classes) {
    const section = sectionNaming(cls.name);
    if (section === undefined) {
      absent.push(`${cls.name} (no heading names it)`);
      continue;
    }
    const spans = spansOf(section);
    for (const name of cls.methods) if (!showsCall(spans, name)) absent.push(`${cls.name}: ${name}()`);
    for (const name of cls.properties) if (!showsWord(spans, name)) absent.push(`${cls.name}: ${name}`);
  }
  missing("these members", absent);
});

test("every option key is documented in the section of its type", () => {
  const absent: string[] = [];
  for (const { name, keys } of surface.options.values()) {
    const section = sectionNaming(name);
    if (section === undefined) {
      absent.push(`${name} (no heading names it)`);
      continue;
    }
    const spans = spansOf(section);
    for (const key of keys) if (!showsKey(spans, key)) absent.push(`${name}: ${key}`);
  }
  missing("these options", absent);
});

test("every error code is in the table of error codes", () => {
  const section = sectionNaming("SpoolErrorCode");
  assert.ok(section, "no heading names SpoolErrorCode");
  const rows = section.body.split("\n").filter((line) => line.startsWith("|"));
  missing(
    "these error codes",
    surface.errorCodes.filter((code) => !rows.some((row) => row.startsWith(`| \`${code}\``))),
  );
});

/** What the built `spool` says about itself: its commands, and the long flags of each. */
function cliHelp(): { commands: Map<string, string[]>; global: string[] } {
  const bin = join(repositoryRoot, "dist/cli/main.js");
  assert.ok(existsSync(bin), "dist/cli/main.js is missing: run `npm run build` first");
  const help = (args: string[]) => execFileSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  const block = (text: string, title: string) =>
    (text.split(`\n${title}:\n`)[1] ?? "").split("\n\n")[0]?.split("\n") ?? [];
  const flags = (text: string) =>
    block(text, "Options")
      .map((line) => /^\s+(?:-\w, )?(--[\w-]+)/.exec(line)?.[1])
      .filter((flag): flag is string => flag !== undefined && flag !== "--help");
  const top = help(["--help"]);
  const commands = new Map<string, string[]>();
  for (const line of block(top, "Commands")) {
    const name = /^ {2}([\w-]+)/.exec(line)?.[1];
    if (name === undefined) continue;
    const own = help([name, "--help"]);
    // `spool help --help` shows the program's help: the help command has no flags of its own.
    commands.set(name, own === top ? [] : flags(own));
  }
  return { commands, global: flags(top) };
}

test("every CLI command and each of its flags is documented", () => {
  const cli = sectionNaming("Command line") ?? all.find((s) => s.heading === "Command line");
  assert.ok(cli, "no Command line section");
  const { commands, global } = cliHelp();
  assert.ok(commands.has("add") && commands.size > 5, "could not read the commands from spool --help");
  const absent: string[] = [];
  const showsFlag = (spans: string[], flag: string) =>
    spans.some((span) => new RegExp(`(^|[\\s,])${escapeRegExp(flag)}(?![\\w-])`).test(span));
  for (const flag of global) if (!showsFlag(spansOf(cli), flag)) absent.push(`spool ${flag}`);
  for (const [command, commandFlags] of commands) {
    if (!showsWord(spansOf(cli), `spool ${command}`)) absent.push(`spool ${command}`);
    if (commandFlags.length === 0) continue;
    const section = sectionNaming(`spool ${command}`);
    if (section === undefined) {
      absent.push(`spool ${command} (no heading names it, and it has flags)`);
      continue;
    }
    for (const flag of commandFlags)
      if (!showsFlag(spansOf(section), flag)) absent.push(`spool ${command} ${flag}`);
  }
  missing("these commands and flags", absent);
});

test("the reference links the guarantees instead of leaving them out", () => {
  assert.match(doc, /\]\(guarantees\.md(#[\w-]+)?\)/);
  for (const link of doc.matchAll(/\]\(([\w.-]+\.md)(#[\w-]+)?\)/g)) {
    assert.ok(
      existsSync(join(repositoryRoot, "docs", link[1] ?? "")),
      `docs/api.md links ${link[1]}, missing`,
    );
  }
});
