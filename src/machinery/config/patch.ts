import { readFileSync } from "node:fs";
import { CairnError, isCairnError } from "../../errors/index.js";
import { applyJsonPatch } from "./json-patch.js";
import { strategicMerge } from "./strategic-merge.js";
import { parseYamlText } from "./yaml-text.js";

/** A patch with a name for error messages, e.g. the "@file.yaml" it came from. */
export interface NamedConfigPatch {
  readonly name: string;
  readonly text: string;
}

/** A config patch: YAML or JSON text, optionally named. */
export type ConfigPatch = string | NamedConfigPatch;

/**
 * Applies patches in order to a copy of `base` (an unvalidated config
 * object; validate the result with validateMachineConfig). Each patch is
 * YAML or JSON text: a list is an RFC 6902 JSON Patch (json-patch.ts), a
 * mapping is a strategic merge patch (strategic-merge.ts). Two formats
 * because a merge patch is what people write by hand, while JSON Patch can
 * remove list items by position and guard with `test`.
 *
 * Throws INVALID_ARGUMENT saying which patch failed ("patch 2 of 3
 * (@net.yaml)", prefixed by `source`) and why, e.g. which operation.
 */
export function applyConfigPatches(base: unknown, patches: readonly ConfigPatch[], source?: string): unknown {
  let doc = structuredClone(base);
  patches.forEach((p, i) => {
    const { name, text } = typeof p === "string" ? { name: undefined, text: p } : p;
    const label = `${source ? `${source}: ` : ""}patch ${i + 1} of ${patches.length}${name ? ` (${name})` : ""}`;
    doc = applyOne(doc, text, label);
  });
  return doc;
}

function applyOne(doc: unknown, text: string, label: string): unknown {
  const parsed = parseYamlText(text);
  if (!parsed.ok) {
    const where = parsed.details.map((d) => d.message).join("; ");
    throw new CairnError("INVALID_ARGUMENT", `${label}: not valid YAML or JSON: ${where}`, { details: parsed.details });
  }
  const patch = parsed.value;
  try {
    if (Array.isArray(patch)) return applyJsonPatch(doc, patch);
    if (patch !== null && typeof patch === "object") return strategicMerge(doc, patch);
  } catch (e) {
    if (!isCairnError(e)) throw e;
    throw new CairnError("INVALID_ARGUMENT", `${label}: ${e.message}`, { details: e.details });
  }
  const got = patch === null || patch === undefined ? "an empty document" : `a ${typeof patch}`;
  throw new CairnError("INVALID_ARGUMENT", `${label}: expected a mapping (merge patch) or a list (JSON patch), got ${got}`);
}

/**
 * Reads a command-line patch argument: "@path" reads the file, anything else
 * is the patch text itself (the curl/kubectl convention). Returns the name
 * to show in errors with the text; errors name the file.
 */
export function readPatchArg(arg: string): NamedConfigPatch {
  if (!arg.startsWith("@")) return { name: "inline patch", text: arg };
  const file = arg.slice(1);
  if (file === "") throw new CairnError("INVALID_ARGUMENT", `patch argument "@" has no file name after the @`);
  try {
    return { name: arg, text: readFileSync(file, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (code ?? String(e));
    throw new CairnError("INVALID_ARGUMENT", `patch file "${file}": ${why}`, { cause: e });
  }
}

/** Like readPatchArg, for callers that need only the text ("@file.yaml" or inline YAML/JSON). */
export function loadPatchArg(arg: string): string {
  return readPatchArg(arg).text;
}
