import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { nodeError } from "./errno.js";

/**
 * Where Cairn writes the resolver config. /etc is on the read-only root, so
 * the image builder (src/image/rootfs.ts) ships /etc/resolv.conf as a
 * symlink to ../run/cairn/resolv.conf, as systemd-resolved does with
 * /run/systemd/resolve: glibc's getaddrinfo and c-ares both read
 * /etc/resolv.conf and follow the link.
 */
export const RESOLV_CONF_PATH = "/run/cairn/resolv.conf";

/** resolv.conf text: at most 3 nameservers are honoured by glibc, so the rest are dropped. */
export function renderResolvConf(nameservers: readonly string[], searchDomains: readonly string[]): string {
  const lines = ["# Written by Cairn machined; changes are overwritten."];
  if (searchDomains.length) lines.push(`search ${searchDomains.join(" ")}`);
  for (const ns of [...new Set(nameservers)].slice(0, 3)) lines.push(`nameserver ${ns}`);
  return `${lines.join("\n")}\n`;
}

let writes = 0;

/**
 * Replaces resolv.conf atomically (write temp, rename) so a reader never sees
 * half a file. Each write has its own temp name: links are configured in
 * parallel, and two writers sharing one temp file made the second rename fail
 * with ENOENT (a first-boot config was rejected that way).
 */
export async function writeResolvConf(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${++writes}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (e) {
    throw nodeError(`write ${path}`, e);
  }
}

/** Nameservers and search domains of a resolv.conf text (comments and other keywords ignored). */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[] } {
  const nameservers: string[] = [];
  const search: string[] = [];
  for (const line of text.split("\n")) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === "nameserver" && rest[0]) nameservers.push(rest[0]);
    else if (key === "search" || key === "domain") search.push(...rest);
  }
  return { nameservers, search };
}
