/**
 * Parsing of depmod's modules.dep and the load order derived from it. Pure:
 * the build computes the order once so that stage 1 (C) and machined only
 * walk a flat list with finit_module, dependencies first.
 */

/** module name (dashes folded to underscores) -> its path and direct dependencies. */
export type ModuleGraph = ReadonlyMap<string, { path: string; deps: readonly string[] }>;

/** Canonical module name of a path or name: `kernel/x/virtio-rng.ko` -> `virtio_rng`. */
export function moduleName(pathOrName: string): string {
  const base = pathOrName.slice(pathOrName.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}

/** Parses modules.dep text (`path: dep dep ...` per line) into a graph keyed by name. */
export function parseModulesDep(text: string): ModuleGraph {
  const graph = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    graph.set(moduleName(path), { path, deps });
  }
  return graph;
}

/**
 * Returns the modules to load for `wanted`, each after all of its
 * dependencies (depth-first post-order), without duplicates. Throws on a
 * name modules.dep does not know, so a typo in the pins fails the build
 * rather than the boot.
 */
export function loadOrder(graph: ModuleGraph, wanted: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: readonly string[]): void => {
    if (seen.has(name)) return;
    const node = graph.get(name);
    if (!node) throw new Error(`module ${name} is not in modules.dep (wanted by ${chain.join(" <- ") || "pins"})`);
    seen.add(name);
    for (const dep of node.deps) visit(dep, [name, ...chain]);
    order.push(name);
  };
  for (const w of wanted) visit(moduleName(w), []);
  return order;
}

/** The modules.dep paths (relative to /lib/modules/<kver>) of `names`, in the same order. */
export function modulePaths(graph: ModuleGraph, names: readonly string[]): string[] {
  return names.map((n) => {
    const node = graph.get(n);
    if (!node) throw new Error(`module ${n} is not in modules.dep`);
    return node.path;
  });
}
