/**
 * Lists whose items have an identity, so that a patch can change one item
 * without restating the others and a diff can say "interface eth0 changed"
 * instead of "the interface list changed". Every other array is treated as
 * one opaque value (replaced by patches, compared whole by diffs).
 *
 * Paths use object keys only (no indices), e.g. "machine.network.interfaces".
 * `keys` are tried in order: an item is identified by the first one it has.
 */
export const KEYED_ARRAYS: ReadonlyMap<string, readonly string[]> = new Map([
  // Interfaces are selected by kernel name, or by MAC when names are unstable.
  ["machine.network.interfaces", ["name", "mac"]],
  // At most one file entry per target path (enforced by the schema too).
  ["machine.files", ["path"]],
  // Loading a module twice is meaningless; its name is its identity.
  ["machine.kernel.modules", ["name"]],
  // A workload's name is its container ID.
  ["machine.workloads", ["name"]],
]);

/** The identity of one item: which key identifies it and that key's value. */
export interface ItemIdentity {
  readonly key: string;
  readonly value: string;
}

/** Identity keys for the array at `keyPath`, or undefined when the array is not keyed. */
export function identityKeysFor(keyPath: string): readonly string[] | undefined {
  return KEYED_ARRAYS.get(keyPath);
}

/**
 * The identity of `item` under `keys`: the first key the item has a scalar
 * value for. Undefined for non-objects and items lacking every key, which
 * callers then treat positionally.
 */
export function itemIdentity(item: unknown, keys: readonly string[]): ItemIdentity | undefined {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return undefined;
  const rec = item as Record<string, unknown>;
  for (const key of keys) {
    const v = rec[key];
    if (typeof v === "string" || typeof v === "number") return { key, value: String(v) };
  }
  return undefined;
}

/** Whether `item` has the identity `id` (same value under the same key). */
export function hasIdentity(item: unknown, id: ItemIdentity): boolean {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return false;
  const v = (item as Record<string, unknown>)[id.key];
  return (typeof v === "string" || typeof v === "number") && String(v) === id.value;
}
