import type { z } from "zod";

type AnySchema = z.core.$ZodType;

/** Wrapper types whose inner schema describes the same value. */
const WRAPPERS = new Set(["default", "prefault", "optional", "nullable", "readonly", "catch", "nonoptional"]);

/** Strips defaults, optionals and pipes to reach the schema that describes the value's shape. */
function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}

/**
 * Returns a copy of `value` whose object keys follow the declaration order
 * of `schema` (then any keys the schema does not know, in their original
 * order). Record keys (sysctls, env) are sorted. Why: YAML written by the
 * tools should read like the documented schema and not depend on the order
 * in which a patch or a JSON client happened to insert keys, so that two
 * equal configs always serialize to the same text.
 */
export function orderLikeSchema(value: unknown, schema: AnySchema): unknown {
  const s = unwrap(schema);
  const def = s._zod.def as {
    type: string;
    shape?: Record<string, AnySchema>;
    element?: AnySchema;
    valueType?: AnySchema;
  };
  if (Array.isArray(value)) {
    return def.type === "array" && def.element ? value.map((v) => orderLikeSchema(v, def.element as AnySchema)) : value;
  }
  if (value === null || typeof value !== "object") return value;
  const rec = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (def.type === "object" && def.shape) {
    const shape = def.shape;
    for (const key of Object.keys(shape)) {
      if (key in rec) out[key] = orderLikeSchema(rec[key], shape[key] as AnySchema);
    }
    for (const key of Object.keys(rec)) if (!(key in shape)) out[key] = rec[key];
  } else if (def.type === "record" && def.valueType) {
    for (const key of Object.keys(rec).sort()) out[key] = orderLikeSchema(rec[key], def.valueType);
  } else {
    return value;
  }
  return out;
}
