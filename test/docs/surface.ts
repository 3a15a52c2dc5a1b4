/*
 * The public surface of the package, read from the code itself (never from a list kept by
 * hand), for the API reference test:
 * - the entry points: package.json "exports", each mapped from dist/*.d.ts back to src/*.ts;
 * - their exported names, as the TypeScript compiler resolves them;
 * - the public members of every exported class: the names on the runtime prototype (and the
 *   class itself) plus the declared fields, minus what the source marks `private`, `protected`
 *   or `@internal` (which `stripInternal` leaves out of the published types);
 * - the option keys a caller can pass: every property of every `options`/`defaults` parameter
 *   of a public function or method, and of the option objects inside them (`retention`,
 *   `backoff`, `codec`…), recursively;
 * - the error codes: the members of the `SpoolErrorCode` union.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export interface ClassSurface {
  name: string;
  /** Public members: methods (with `(` in their documentation) and the rest. */
  methods: string[];
  properties: string[];
}

export interface OptionType {
  /** The type's name (the section documenting it), or the class owning an inline `{ … }` type. */
  name: string;
  keys: Set<string>;
}

export interface Surface {
  /** Import path ("spool", "spool/dashboard"…) → the names it exports. */
  entryPoints: Map<string, string[]>;
  classes: ClassSurface[];
  options: Map<string, OptionType>;
  errorCodes: string[];
}

const OPTION_PARAMETERS = new Set(["options", "defaults"]);

function isHidden(member: ts.ClassElement): boolean {
  if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) return true;
  if (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
    return true;
  return ts.getJSDocTags(member).some((tag) => tag.tagName.text === "internal");
}

function memberName(member: ts.ClassElement): string | undefined {
  return member.name === undefined ? undefined : member.name.getText();
}

/** `[Symbol.asyncDispose]` for a well-known symbol, as the source spells it. */
function keyName(key: string | symbol): string {
  if (typeof key === "string") return key;
  const wellKnown = Object.getOwnPropertyNames(Symbol).find(
    (name) => (Symbol as unknown as Record<string, unknown>)[name] === key,
  );
  return `[${wellKnown === undefined ? String(key.description) : `Symbol.${wellKnown}`}]`;
}

export async function readSurface(root: string): Promise<Surface> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, string | { types?: string }>;
  };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = typeof target === "string" ? undefined : target.types;
    if (types === undefined) continue; // "./package.json"
    const source = join(root, types.replace(/^\.\/dist\//, "src/").replace(/\.d\.ts$/, ".ts"));
    entries.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
  }

  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (config === undefined) throw new Error("tsconfig.json could not be read");
  const program = ts.createProgram([...entries.values()], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const inSource = (node: ts.Node) =>
    !relative(join(root, "src"), node.getSourceFile().fileName).startsWith("..");

  const entryPoints = new Map<string, string[]>();
  const classes = new Map<string, ClassSurface>();
  const options = new Map<string, OptionType>();
  let errorCodes: string[] = [];

  /**
   * The type as written (`Backoff`, `SendOptions`), which keeps its name; the type of an optional
   * property or parameter would be a nameless union with `undefined`.
   */
  function declaredType(node: ts.Node | undefined): ts.Type | undefined {
    const written = node !== undefined && "type" in node ? (node.type as ts.TypeNode | undefined) : undefined;
    return written === undefined ? undefined : checker.getTypeFromTypeNode(written);
  }

  function addKeys(name: string, type: ts.Type, seen: Set<ts.Type>): void {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.isUnion()) {
      for (const member of type.types) addKeys(type.aliasSymbol?.name ?? name, member, seen);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object) || checker.isArrayType(type) || checker.isTupleType(type)) return;
    if (type.getCallSignatures().length > 0) return; // a function (a handler, a backoff function)
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const declarations = symbol?.declarations ?? [];
    // Date, AbortSignal, Uint8Array… are the platform's; a class instance (a Spool) is no option bag.
    if (declarations.length === 0 || !declarations.every(inSource)) return;
    if (declarations.some(ts.isClassDeclaration)) return;
    const named = symbol !== undefined && !symbol.name.startsWith("__") ? symbol.name : name;
    const entry = options.get(named) ?? { name: named, keys: new Set<string>() };
    options.set(named, entry);
    for (const property of checker.getPropertiesOfType(type)) {
      entry.keys.add(property.name);
      addKeys(named, declaredType(property.valueDeclaration) ?? checker.getTypeOfSymbol(property), seen);
    }
  }

  function addOptionsOf(owner: string, signature: ts.SignatureDeclaration): void {
    for (const parameter of signature.parameters) {
      if (!ts.isIdentifier(parameter.name) || !OPTION_PARAMETERS.has(parameter.name.text)) continue;
      addKeys(owner, declaredType(parameter) ?? checker.getTypeAtLocation(parameter), new Set());
    }
  }

  for (const [importPath, file] of entries) {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${file}: not a module the compiler can read`);
    const runtime = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const exported = checker.getExportsOfModule(moduleSymbol);
    entryPoints.set(
      importPath,
      exported.map((s) => s.name),
    );
    for (const name of Object.keys(runtime)) {
      if (!exported.some((s) => s.name === name))
        throw new Error(`${importPath}: ${name} escaped the compiler`);
    }
    for (const alias of exported) {
      const symbol = alias.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(alias) : alias;
      const declaration = symbol.declarations?.[0];
      if (declaration === undefined) continue;
      if (ts.isTypeAliasDeclaration(declaration) && alias.name === "SpoolErrorCode") {
        const type = checker.getTypeAtLocation(declaration);
        errorCodes = (type.isUnion() ? type.types : [type])
          .filter((t): t is ts.StringLiteralType => t.isStringLiteral())
          .map((t) => t.value);
      }
      if (ts.isFunctionDeclaration(declaration)) addOptionsOf(alias.name, declaration);
      if (ts.isVariableDeclaration(declaration)) {
        // A factory held in a const (`openSqliteBackend: BackendFactory`): its call signatures.
        for (const signature of checker.getTypeAtLocation(declaration).getCallSignatures()) {
          const params = signature.getDeclaration();
          if (params !== undefined) addOptionsOf(alias.name, params);
        }
      }
      if (!ts.isClassDeclaration(declaration) || classes.has(alias.name)) continue;
      const hidden = new Set<string>();
      const declared = new Map<string, boolean>(); // public name → is a method
      for (const member of declaration.members) {
        const name = memberName(member);
        if (ts.isConstructorDeclaration(member)) {
          if (!isHidden(member)) addOptionsOf(alias.name, member);
          continue;
        }
        if (name === undefined) continue;
        if (isHidden(member)) {
          hidden.add(name);
          continue;
        }
        declared.set(name, ts.isMethodDeclaration(member));
        if (ts.isMethodDeclaration(member)) addOptionsOf(alias.name, member);
      }
      // The runtime class: a public method the source does not declare (a mixin, a method
      // added after the class) is public too, and must be documented like any other.
      const value = runtime[alias.name] as (abstract new (...args: never[]) => unknown) | undefined;
      const onRuntime = value === undefined ? [] : [value, value.prototype as object];
      for (const target of onRuntime) {
        for (const key of Reflect.ownKeys(target)) {
          const name = keyName(key);
          if (["constructor", "length", "name", "prototype"].includes(name) || hidden.has(name)) continue;
          const descriptor = Object.getOwnPropertyDescriptor(target, key);
          if (!declared.has(name)) declared.set(name, typeof descriptor?.value === "function");
        }
      }
      classes.set(alias.name, {
        name: alias.name,
        methods: [...declared].filter(([, method]) => method).map(([name]) => name),
        properties: [...declared].filter(([, method]) => !method).map(([name]) => name),
      });
    }
  }
  if (errorCodes.length === 0) throw new Error("SpoolErrorCode was not found among the exports");
  return { entryPoints, classes: [...classes.values()], options, errorCodes };
}

/** The repository root, from this file's place in it. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
