import jsonpatch from "fast-json-patch";
import { CairnError } from "../../errors/index.js";

/**
 * Applies an RFC 6902 JSON Patch (a list of add/remove/replace/move/copy/test
 * operations) to a copy of `doc`. Every operation is validated before it is
 * applied, and a failing `test` aborts the whole patch, so a patch can guard
 * itself ("only if hostname is still X").
 *
 * Throws INVALID_ARGUMENT naming the failing operation by index, op and path.
 * The library's own message embeds the whole document, which would leak the
 * CA key into logs, so only its first line is kept and it is not the cause.
 */
export function applyJsonPatch(doc: unknown, ops: readonly unknown[]): unknown {
  try {
    // validate: true checks each op's shape; mutate: false clones doc first.
    return jsonpatch.applyPatch(doc, ops as jsonpatch.Operation[], true, false).newDocument;
  } catch (e) {
    const index = e instanceof jsonpatch.JsonPatchError && typeof e.index === "number" ? e.index : undefined;
    const reason = e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e);
    if (index === undefined) throw new CairnError("INVALID_ARGUMENT", `JSON patch: ${reason}`);
    const op = ops[index] as { op?: unknown; path?: unknown } | null;
    const what = typeof op === "object" && op !== null ? ` (${String(op.op)} ${String(op.path)})` : "";
    throw new CairnError("INVALID_ARGUMENT", `operation [${index}]${what}: ${reason}`, {
      details: [{ path: `[${index}]`, message: reason }],
    });
  }
}
