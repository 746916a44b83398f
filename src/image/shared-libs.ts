import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { run } from "./exec.js";

/** One shared library to copy from the host into the image. */
export interface SharedLib {
  /** The soname the binary asks for, e.g. libc.so.6. */
  readonly name: string;
  /** The real file on the host (symlinks resolved). */
  readonly hostPath: string;
  /** Where the image must hold it so the dynamic loader finds it without ld.so.cache. */
  readonly imagePath: string;
}

/**
 * Parses `ldd` output into soname -> host path. Handles both
 * `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and the loader line
 * `/lib64/ld-linux-x86-64.so.2 (0x...)`; skips the vDSO.
 */
export function parseLdd(text: string): Map<string, string> {
  const libs = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("linux-vdso")) continue;
    const arrow = /^(\S+) => (\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (arrow) {
      libs.set(arrow[1]!, arrow[2]!);
      continue;
    }
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader) libs.set(basename(loader[1]!), loader[1]!);
    else if (line.includes("not found")) throw new Error(`ldd: ${line}`);
  }
  return libs;
}

/**
 * Finds the libraries `binaries` need (via ldd on this Debian host) and
 * checks them against `allowed`: a new dependency must be a conscious pin
 * change, not something that silently grows the image. The loader goes to
 * /lib64 (the binaries' PT_INTERP); the rest to /lib/x86_64-linux-gnu, a
 * directory glibc's loader searches by default.
 */
export function resolveSharedLibs(binaries: readonly string[], allowed: readonly string[]): SharedLib[] {
  const all = new Map<string, string>();
  for (const bin of binaries) for (const [k, v] of parseLdd(run("ldd", [bin]))) all.set(k, v);
  const unexpected = [...all.keys()].filter((n) => !allowed.includes(n));
  if (unexpected.length) throw new Error(`unexpected shared libraries ${unexpected.join(", ")}: add them to NODE_LIB_NAMES`);
  return [...all].map(([name, path]) => ({
    name,
    hostPath: realpathSync(path),
    imagePath: name.startsWith("ld-linux") ? `/lib64/${name}` : `/lib/x86_64-linux-gnu/${name}`,
  }));
}
