/**
 * Pure parsing of depmod's modules.dep and /proc/modules, and the load
 * order derived from them, so ordering is unit-tested without a kernel.
 */

/** Module paths (relative to /lib/modules/<release>) mapped to their dependency paths. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const deps = line.slice(colon + 1).trim();
    out.set(line.slice(0, colon).trim(), deps ? deps.split(/\s+/) : []);
  }
  return out;
}

/** The kernel's name for a module file: basename without `.ko[.xz|.zst|.gz]`, dashes as underscores. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}

/** Names of loaded modules from /proc/modules (first column). */
export function parseProcModules(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split(" ")[0];
    if (name) out.add(name);
  }
  return out;
}

/**
 * Module paths in an order where every module follows its dependencies.
 * `wanted` names modules (`virtio_blk`); all of modules.dep when omitted.
 * modules.dep lists a module's full dependency closure with the deepest
 * last (modprobe loads that list back to front); walking it depth-first
 * gives the same guarantee without relying on that convention.
 */
export function moduleLoadOrder(dep: ReadonlyMap<string, readonly string[]>, wanted?: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const p of dep.keys()) byName.set(moduleName(p), p);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const d of [...(dep.get(path) ?? [])].reverse()) visit(d);
    order.push(path);
  };
  const roots = wanted ? wanted.map((n) => byName.get(n.replace(/-/g, "_"))).filter((p): p is string => p !== undefined) : [...dep.keys()];
  for (const r of roots) visit(r);
  return order;
}

/** Names in `wanted` that modules.dep does not know (built in, or missing from the image). */
export function unknownModules(dep: ReadonlyMap<string, readonly string[]>, wanted: readonly string[]): string[] {
  const names = new Set([...dep.keys()].map(moduleName));
  return wanted.filter((n) => !names.has(n.replace(/-/g, "_")));
}
