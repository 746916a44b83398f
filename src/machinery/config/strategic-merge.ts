import { CairnError } from "../../errors/index.js";
import { appendItem, appendKey } from "./field-path.js";
import { hasIdentity, identityKeysFor, itemIdentity } from "./keyed-arrays.js";

/** Marker a patch uses to remove an object or keyed list item (Talos style). */
const PATCH_DIRECTIVE = "$patch";
const DELETE = Symbol("delete");

/** Keys that would reach Object.prototype if merged with plain assignment. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Applies a strategic merge patch and returns the result; neither argument
 * is modified. Rules, chosen so a small patch can change one thing in a big
 * config without restating the rest:
 *
 * - objects merge key by key, recursively;
 * - lists of identified items (keyed-arrays.ts: interfaces by name else mac,
 *   files by path, kernel modules by name) merge item by item, and a patch
 *   item with a new identity is appended;
 * - every other list, and every scalar (null included), replaces the old value;
 * - an object `{ $patch: delete, ... }` deletes what it would have merged
 *   into: a key of an object, or the list item with the same identity.
 *
 * Throws INVALID_ARGUMENT with the field path for an unknown `$patch`
 * value, a delete that cannot say what it deletes, or a forbidden key.
 */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  const out = merge(base, patch, "", "");
  // Deleting the whole document would leave nothing to validate.
  if (out === DELETE) throw problem("", "cannot delete the whole document");
  return out;
}

function merge(base: unknown, patch: unknown, keyPath: string, fieldPath: string): unknown {
  if (Array.isArray(patch)) return mergeList(base, patch, keyPath, fieldPath);
  if (!isPlain(patch)) return patch;
  if (Object.hasOwn(patch, PATCH_DIRECTIVE)) {
    const directive = patch[PATCH_DIRECTIVE];
    if (directive !== "delete") {
      throw problem(appendKey(fieldPath, PATCH_DIRECTIVE), `unsupported value ${JSON.stringify(directive)}, only "delete"`);
    }
    return DELETE;
  }
  const out: Plain = isPlain(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    const childField = appendKey(fieldPath, key);
    if (FORBIDDEN_KEYS.has(key)) throw problem(childField, "forbidden key");
    const merged = merge(out[key], value, keyPath === "" ? key : `${keyPath}.${key}`, childField);
    if (merged === DELETE) delete out[key];
    else out[key] = merged;
  }
  return out;
}

function mergeList(base: unknown, patch: readonly unknown[], keyPath: string, fieldPath: string): unknown[] {
  const keys = identityKeysFor(keyPath);
  if (keys === undefined || !Array.isArray(base)) {
    // Replaced as a whole: still run items through merge to catch stray directives.
    return patch.map((item, i) => {
      const merged = merge(undefined, item, keyPath, appendItem(fieldPath, i));
      if (merged === DELETE) {
        throw problem(appendItem(fieldPath, i), `$patch: delete needs an existing ${keys ? "keyed " : ""}list to delete from`);
      }
      return merged;
    });
  }
  const out = [...base];
  patch.forEach((item, i) => {
    const id = itemIdentity(item, keys);
    const at = id === undefined ? -1 : out.findIndex((b) => hasIdentity(b, id));
    const itemField = appendItem(fieldPath, id?.value ?? i);
    const merged = merge(at >= 0 ? out[at] : undefined, item, keyPath, itemField);
    if (merged !== DELETE) {
      if (at >= 0) out[at] = merged;
      else out.push(merged);
    } else if (id === undefined) {
      throw problem(appendItem(fieldPath, i), `$patch: delete needs ${keys.join(" or ")} to say which item to delete`);
    } else if (at >= 0) {
      out.splice(at, 1);
    }
    // Deleting an item that is not there is a no-op, so patches stay idempotent.
  });
  return out;
}

function problem(path: string, message: string): CairnError {
  return new CairnError("INVALID_ARGUMENT", `${path === "" ? "<root>" : path}: ${message}`, { details: [{ path, message }] });
}
