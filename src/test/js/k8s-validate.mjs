// Validates Kubernetes objects against the API schemas of the kubernetes-models package (Kubernetes 1.27), and
// rejects fields the API does not define (a misspelt or misplaced key, which the schemas alone let through: the
// API server would drop it silently), read from the package's type declarations.
// Input: a JSON array of objects, from the file named by the first argument or from stdin.
// Output: one line per object, "ok|invalid|unknown <apiVersion> <kind> <name>" (then the schema errors);
// "unknown" is a kind the package does not model (custom resources: the caller checks those itself).
// Exit status: 0 when no object is invalid, 1 when one is, 2 on bad input.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const input = readFileSync(process.argv[2] ?? 0, "utf8");
let objects;
try {
  objects = JSON.parse(input);
  if (!Array.isArray(objects)) throw new Error("expected a JSON array of objects");
} catch (e) {
  console.error(`bad input: ${e.message}`);
  process.exit(2);
}

// "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  try {
    const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return mod[kind];
  } catch (e) {
    if (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return undefined;
    throw e;
  }
}

// The properties of the interface a .d.ts file declares, each with its type and the file declaring that type.
const declarations = new Map();
function declaration(file) {
  if (declarations.has(file)) return declarations.get(file);
  const src = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const imports = new Map();
  for (const m of src.matchAll(/import \{([^}]*)\} from "([^"]+)"/g)) {
    for (const name of m[1].split(",").map((n) => n.trim()).filter(Boolean)) imports.set(name, m[2]);
  }
  const body = src.match(/export interface \w+(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/);
  let props = null;
  if (body) {
    props = new Map();
    for (const m of body[1].matchAll(/"([^"]+)"\??:\s*(\{[^}]*\}|[^;]+);/g)) props.set(m[1], m[2].trim());
  }
  const decl = { file, imports, props };
  declarations.set(file, decl);
  return decl;
}

function declarationFile(fromFile, specifier) {
  const js = specifier.startsWith(".") ? resolve(dirname(fromFile), specifier)
      : fileURLToPath(import.meta.resolve(specifier));
  const dts = js.replace(/\.js$/, "") + ".d.ts";
  return existsSync(dts) ? dts : undefined;
}

// Paths of fields in data that the declared type does not have.
function unknownFields(data, file, path, out) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return out;
  const decl = declaration(file);
  if (!decl.props) return out;
  for (const [key, value] of Object.entries(data)) {
    const type = decl.props.get(key);
    if (type === undefined) {
      out.push(`${path}/${key}`);
      continue;
    }
    const element = type.match(/^Array<(\w+)>$/)?.[1] ?? type.match(/^\{\s*\[key: string\]:\s*(\w+);?\s*\}$/)?.[1] ?? type;
    const spec = decl.imports.get(element);
    const target = spec && declarationFile(file, spec);
    if (!target) continue;
    const many = type !== element;
    const items = !many ? [[key, value]] : Array.isArray(value) ? value.map((v, i) => [`${key}/${i}`, v])
        : Object.entries(value ?? {}).map(([k, v]) => [`${key}/${k}`, v]);
    for (const [p, v] of items) unknownFields(v, target, `${path}/${p}`, out);
  }
  return out;
}

let invalid = 0;
for (const obj of objects) {
  const apiVersion = obj?.apiVersion, kind = obj?.kind, name = obj?.metadata?.name ?? "<no name>";
  const Model = await modelClass(apiVersion, kind);
  if (!Model) {
    console.log(`unknown ${apiVersion} ${kind} ${name}`);
    continue;
  }
  try {
    new Model(obj).validate();
    const top = declarationFile(fileURLToPath(import.meta.url), `kubernetes-models/${apiVersion}/${kind}`);
    if (!top) throw new Error(`no type declarations for ${apiVersion} ${kind}`);
    const unknown = unknownFields(obj, top, "", []);
    if (unknown.length) {
      invalid++;
      console.log(`invalid ${apiVersion} ${kind} ${name}`);
      for (const p of unknown) console.log(`  ${p}: not a field of ${kind} ${apiVersion}`);
      continue;
    }
    console.log(`ok ${apiVersion} ${kind} ${name}`);
  } catch (e) {
    invalid++;
    console.log(`invalid ${apiVersion} ${kind} ${name}`);
    for (const err of e.errors ?? [{ instancePath: "", message: e.message }]) {
      console.log(`  ${err.instancePath || "/"}: ${err.message}${err.params ? " " + JSON.stringify(err.params) : ""}`);
    }
  }
}
process.exit(invalid ? 1 : 0);
