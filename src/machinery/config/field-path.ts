/**
 * One way to spell a location inside a config document, shared by
 * validation errors, diffs and reboot classification so that a path shown
 * in one place can be searched for in another.
 *
 * Format: dotted keys from the root ("machine.network"), array indices in
 * brackets ("interfaces[0]"), keyed array items by their identity
 * ("interfaces[eth0]"), and keys that are not plain words in quoted
 * brackets ("sysctls[\"net.ipv4.ip_forward\"]"), so a dotted sysctl name is
 * never mistaken for nesting. The root itself is "".
 */

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends an object key to a path, quoting keys that contain dots or other punctuation. */
export function appendKey(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

/** Appends a bracketed segment: an array index (0) or a keyed item identity (eth0). */
export function appendItem(path: string, item: number | string): string {
  return `${path}[${item}]`;
}

/** Renders a zod-style path (keys and indices) in the shared format. */
export function formatFieldPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const seg of segments) {
    path = typeof seg === "number" ? appendItem(path, seg) : appendKey(path, String(seg));
  }
  return path;
}

/**
 * True when `path` is `prefix` or lies below it ("machine.api.port" is under
 * "machine.api" but "machine.apiX" is not), so policy tables can match on
 * whole segments only.
 */
export function isUnderPath(path: string, prefix: string): boolean {
  if (prefix === "") return true;
  if (!path.startsWith(prefix)) return false;
  const next = path.charAt(prefix.length);
  return next === "" || next === "." || next === "[";
}
