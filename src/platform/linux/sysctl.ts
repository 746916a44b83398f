import { writeFile } from "node:fs/promises";
import { CairnError } from "../../errors/index.js";
import { nodeError } from "./errno.js";

/**
 * Maps a sysctl key to its /proc/sys file: `net.ipv4.ip_forward` →
 * `/proc/sys/net/ipv4/ip_forward`; slash form (`net/ipv4/ip_forward`) is
 * accepted as is, since some keys (interface names) contain dots.
 */
export function sysctlPath(key: string, root = "/proc/sys"): string {
  const rel = key.includes("/") ? key : key.replace(/\./g, "/");
  if (!/^[A-Za-z0-9_.\-/]+$/.test(rel) || rel.split("/").some((p) => p === "" || p === "." || p === "..")) {
    throw new CairnError("INVALID_ARGUMENT", `sysctl ${key}: not a valid key`);
  }
  return `${root}/${rel}`;
}

/** Writes each sysctl; all keys are validated before the first write, then applied in order. */
export async function applySysctls(sysctls: Readonly<Record<string, string>>, root = "/proc/sys"): Promise<void> {
  const writes = Object.entries(sysctls).map(([k, v]) => [k, sysctlPath(k, root), v] as const);
  for (const [key, path, value] of writes) {
    try {
      await writeFile(path, value);
    } catch (e) {
      throw nodeError(`sysctl ${key}=${value}`, e);
    }
  }
}
