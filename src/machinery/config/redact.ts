import { SECRET_PATHS, type MachineConfig } from "./schema.js";

/** The value that replaces a secret: obviously not a PEM, so it can never be mistaken for one. */
export const REDACTED = "[redacted]";

/**
 * Returns a deep copy of `cfg` with every SECRET_PATHS value that is set
 * replaced by "[redacted]" (absent secrets stay absent, so the output still
 * tells whether a key is configured). The input is untouched. Used by
 * GetConfiguration and anywhere a config is logged or shown.
 *
 * SECRET_PATHS are dotted key paths; a "*" segment matches every array item
 * or object key, for secrets that may later live inside lists.
 */
export function redactMachineConfig(cfg: MachineConfig): MachineConfig {
  const copy = structuredClone(cfg);
  for (const path of SECRET_PATHS) redactPath(copy, path.split("."));
  return copy;
}

function redactPath(node: unknown, segments: readonly string[]): void {
  if (node === null || typeof node !== "object") return;
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const rec = node as Record<string, unknown>;
  const keys = head === "*" ? Object.keys(rec) : Object.hasOwn(rec, head) ? [head] : [];
  for (const key of keys) {
    if (rest.length > 0) redactPath(rec[key], rest);
    else if (rec[key] !== undefined) rec[key] = REDACTED;
  }
}

/**
 * The inverse for a round trip (get → patch → apply): wherever `incoming`
 * still holds the "[redacted]" placeholder at a secret path, the current
 * config's secret is put back. Without a current value the placeholder
 * stays, and validation then rejects it at that path.
 */
export function restoreRedactedSecrets(incoming: unknown, current: MachineConfig | undefined): unknown {
  if (current === undefined || incoming === null || typeof incoming !== "object") return incoming;
  const copy = structuredClone(incoming);
  for (const path of SECRET_PATHS) restorePath(copy, current, path.split("."));
  return copy;
}

function restorePath(node: unknown, source: unknown, segments: readonly string[]): void {
  if (node === null || typeof node !== "object" || source === null || typeof source !== "object") return;
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const rec = node as Record<string, unknown>;
  const src = source as Record<string, unknown>;
  const keys = head === "*" ? Object.keys(rec) : Object.hasOwn(rec, head) ? [head] : [];
  for (const key of keys) {
    if (rest.length > 0) restorePath(rec[key], src[key], rest);
    else if (rec[key] === REDACTED && src[key] !== undefined) rec[key] = src[key];
  }
}
