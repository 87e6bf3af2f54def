// Validates Kubernetes objects against the API schemas of the kubernetes-models package (Kubernetes 1.27).
// Input: a JSON array of objects, from the file named by the first argument or from stdin.
// Output: one line per object, "ok|invalid|unknown <apiVersion> <kind> <name>" (then the schema errors);
// "unknown" is a kind the package does not model (custom resources: the caller checks those itself).
// Exit status: 0 when no object is invalid, 1 when one is, 2 on bad input.
import { readFileSync } from "node:fs";

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
