import { closeSync, openSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { nodeError, errnoName } from "./errno.js";
import { lastErrno, libc } from "./libc.js";
import { moduleLoadOrder, moduleName, parseModulesDep, parseProcModules, unknownModules } from "./modules-dep.js";

/** finit_module(2) syscall numbers: glibc has no wrapper. */
const SYS_FINIT_MODULE: Partial<Record<NodeJS.Architecture, number>> = { x64: 313, arm64: 273 };
/** Lets the kernel decompress .ko.xz/.zst/.gz itself (CONFIG_MODULE_DECOMPRESS). */
const MODULE_INIT_COMPRESSED_FILE = 4;

/** What module loading did, for the boot log. */
export interface ModuleLoadResult {
  readonly loaded: string[];
  readonly alreadyLoaded: string[];
  readonly failed: { name: string; error: string }[];
}

/**
 * Loads kernel modules with finit_module in modules.dep order from
 * /lib/modules/<release>, skipping those /proc/modules lists. A module that
 * fails (e.g. ENODEV: no such hardware) is logged and skipped: one missing
 * driver must not stop the boot; the caller decides whether a failure
 * matters by waiting for the device it needs.
 */
export function loadModules(log: Logger, opts: { wanted?: readonly string[]; modulesDir?: string; strict?: boolean } = {}): ModuleLoadResult {
  const dir = opts.modulesDir ?? join("/lib/modules", release());
  const result: ModuleLoadResult = { loaded: [], alreadyLoaded: [], failed: [] };
  let depText: string;
  try {
    depText = readFileSync(join(dir, "modules.dep"), "utf8");
  } catch (e) {
    // A kernel with everything built in ships no modules: nothing to do.
    log.warn({ err: nodeError(`read ${dir}/modules.dep`, e) }, "no modules.dep, skipping module loading");
    return result;
  }
  const dep = parseModulesDep(depText);
  if (opts.wanted) {
    const unknown = unknownModules(dep, opts.wanted);
    if (opts.strict) {
      // Asked for by name (machine config): a module that is neither a file nor built in is an error to report.
      const builtin = new Set(readOptional(join(dir, "modules.builtin")).split("\n").filter(Boolean).map(moduleName));
      for (const name of unknown) {
        if (builtin.has(name.replace(/-/g, "_"))) result.alreadyLoaded.push(name);
        else result.failed.push({ name, error: `module ${name} is not in ${dir}/modules.dep nor built into the kernel` });
      }
    } else if (unknown.length) log.info({ modules: unknown }, "modules not in modules.dep, assumed built in");
  }
  let loadedNow = new Set<string>();
  try {
    loadedNow = parseProcModules(readFileSync("/proc/modules", "utf8"));
  } catch {
    // Without /proc we cannot tell; EEXIST from the kernel covers it.
  }
  const nr = SYS_FINIT_MODULE[process.arch];
  if (nr === undefined) throw nodeError("load modules", Object.assign(new Error("unsupported arch"), { code: "ENOSYS" }));
  for (const rel of moduleLoadOrder(dep, opts.wanted)) {
    const name = moduleName(rel);
    if (loadedNow.has(name)) {
      result.alreadyLoaded.push(name);
      continue;
    }
    const path = join(dir, rel);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      result.failed.push({ name, error: nodeError(`open ${path}`, e).message });
      continue;
    }
    try {
      const flags = /\.(xz|zst|gz)$/.test(rel) ? MODULE_INIT_COMPRESSED_FILE : 0;
      const ret = libc().syscall(nr, "int", fd, "const char *", "", "int", flags);
      if (ret === 0) result.loaded.push(name);
      else {
        const err = errnoName(lastErrno());
        if (err === "EEXIST") result.alreadyLoaded.push(name);
        else result.failed.push({ name, error: `finit_module ${path}: ${err}` });
      }
    } finally {
      closeSync(fd);
    }
  }
  for (const f of result.failed) log.warn({ module: f.name, error: f.error }, "module failed to load");
  log.info({ loaded: result.loaded.length, alreadyLoaded: result.alreadyLoaded.length, failed: result.failed.length }, "modules loaded");
  return result;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
