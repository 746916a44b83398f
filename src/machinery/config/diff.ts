import { isDeepStrictEqual } from "node:util";
import { createTwoFilesPatch } from "diff";
import { appendItem, appendKey } from "./field-path.js";
import { identityKeysFor, itemIdentity } from "./keyed-arrays.js";

/**
 * One changed leaf between two configs. Carries the path only, never the
 * values, so a list of deltas is safe to log and return even when a secret
 * (machine.ca.key) changed.
 */
export interface ConfigDelta {
  /** Leaf path in the shared format (field-path.ts), e.g. machine.network.interfaces[eth0].mtu. */
  path: string;
  op: "add" | "remove" | "replace";
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Lists what changed from `oldCfg` to `newCfg`, leaf by leaf, in document
 * order (removed keys after kept ones). `oldCfg` undefined means "no config
 * yet": every leaf is an add. Lists of identified items (interfaces, files,
 * kernel modules) are compared item by item under their identity, so
 * reordering them is no change and "interfaces[eth0].mtu" survives an
 * insertion before eth0; every other list is one value (one replace).
 * Used to decide live vs reboot (classify.ts) and to tell the user.
 */
export function diffConfigs(oldCfg: unknown | undefined, newCfg: unknown): ConfigDelta[] {
  const out: ConfigDelta[] = [];
  walk(oldCfg, newCfg, "", "", out);
  return out;
}

function walk(a: unknown, b: unknown, keyPath: string, path: string, out: ConfigDelta[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return leaves(b, keyPath, path, "add", out);
  if (b === undefined) return leaves(a, keyPath, path, "remove", out);
  if (isPlain(a) && isPlain(b) && (Object.keys(a).length > 0 || Object.keys(b).length > 0)) {
    const keys = [...Object.keys(b), ...Object.keys(a).filter((k) => !Object.hasOwn(b, k))];
    for (const k of keys) walk(a[k], b[k], childKeyPath(keyPath, k), appendKey(path, k), out);
    return;
  }
  const ka = Array.isArray(a) ? keyedItems(a, keyPath) : undefined;
  const kb = Array.isArray(b) ? keyedItems(b, keyPath) : undefined;
  if (ka && kb) {
    const ids = [...kb.keys(), ...[...ka.keys()].filter((id) => !kb.has(id))];
    for (const id of ids) walk(ka.get(id), kb.get(id), keyPath, appendItem(path, id), out);
    return;
  }
  if (!isDeepStrictEqual(a, b)) out.push({ path, op: "replace" });
}

/** Emits every leaf of a value that appeared or disappeared as a whole. */
function leaves(v: unknown, keyPath: string, path: string, op: ConfigDelta["op"], out: ConfigDelta[]): void {
  if (isPlain(v) && Object.keys(v).length > 0) {
    for (const [k, child] of Object.entries(v)) leaves(child, childKeyPath(keyPath, k), appendKey(path, k), op, out);
    return;
  }
  const keyed = Array.isArray(v) && v.length > 0 ? keyedItems(v, keyPath) : undefined;
  if (keyed) {
    for (const [id, item] of keyed) leaves(item, keyPath, appendItem(path, id), op, out);
    return;
  }
  out.push({ path, op });
}

/**
 * Items of a keyed list by identity value, or undefined when the list is not
 * keyed or an item lacks a unique identity (then it is compared whole,
 * which is always correct, just coarser).
 */
function keyedItems(list: readonly unknown[], keyPath: string): Map<string, unknown> | undefined {
  const keys = identityKeysFor(keyPath);
  if (keys === undefined) return undefined;
  const byId = new Map<string, unknown>();
  for (const item of list) {
    const id = itemIdentity(item, keys);
    if (id === undefined || byId.has(id.value)) return undefined;
    byId.set(id.value, item);
  }
  return byId;
}

const childKeyPath = (keyPath: string, key: string) => (keyPath === "" ? key : `${keyPath}.${key}`);

/** Labels for the two sides of a unified diff (the ---/+++ lines). */
export interface DiffLabels {
  oldLabel?: string;
  newLabel?: string;
}

/**
 * A unified diff (diff -u style, 3 lines of context) between two config
 * texts, for showing a user what an apply will change. Returns "" when the
 * texts are equal, so callers can test for "no change". Pass redacted
 * texts: the diff shows values.
 */
export function unifiedConfigDiff(oldText: string, newText: string, labels: DiffLabels = {}): string {
  if (oldText === newText) return "";
  return createTwoFilesPatch(labels.oldLabel ?? "old", labels.newLabel ?? "new", oldText, newText, undefined, undefined, {
    context: 3,
  });
}
