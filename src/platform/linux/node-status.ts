import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { KernelStatus, ResolverStatus, RouteStatus } from "../platform.js";
import { check, libc } from "./libc.js";
import { parseProcModules } from "./modules-dep.js";
import { parseResolvConf } from "./resolv-conf.js";
import { RouteNetlink } from "./rtnetlink.js";
import { sysctlPath } from "./sysctl.js";

const PROTOCOLS: Record<number, string> = { 2: "kernel", 3: "boot", 4: "static", 16: "dhcp" };
const SCOPES: Record<number, string> = { 0: "universe", 200: "site", 253: "link", 254: "host" };
const CLOCK_REALTIME = 0;

/**
 * Observed node state read back from the kernel for the status resources:
 * each function is one read, never a cached copy of what was configured.
 */
export function kernelHostname(): string {
  return hostname();
}

/** ifindex → link name from /sys/class/net. */
async function linkNames(sysNet = "/sys/class/net"): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const n of await readdir(sysNet).catch(() => [] as string[])) {
    const idx = Number((await readFile(`${sysNet}/${n}/ifindex`, "utf8").catch(() => "")).trim());
    if (idx) out.set(idx, n);
  }
  return out;
}

export async function readRoutes(): Promise<RouteStatus[]> {
  const nl = new RouteNetlink();
  let raw;
  try {
    raw = nl.routes();
  } finally {
    nl.close();
  }
  const names = await linkNames();
  return raw.map((r) => ({
    destination: r.destination,
    gateway: r.gateway ?? "",
    link: names.get(r.ifindex) ?? String(r.ifindex),
    metric: r.metric,
    family: r.family,
    protocol: PROTOCOLS[r.protocol] ?? String(r.protocol),
    scope: SCOPES[r.scope] ?? String(r.scope),
  }));
}

export async function readResolvers(path: string): Promise<ResolverStatus> {
  return parseResolvConf(await readFile(path, "utf8").catch(() => ""));
}

export async function readSysctls(keys: readonly string[], root = "/proc/sys"): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const k of keys) out[k] = await readFile(sysctlPath(k, root), "utf8").then((t) => t.trim().replace(/\s+/g, " "), () => undefined);
  return out;
}

export async function readKernelStatus(): Promise<KernelStatus> {
  const cmdline = (await readFile("/proc/cmdline", "utf8").catch(() => "")).trim();
  const modules = [...parseProcModules(await readFile("/proc/modules", "utf8").catch(() => ""))].sort();
  return { cmdline, modules };
}

/** clock_settime(CLOCK_REALTIME): steps the wall clock; monotonic timers are unaffected. */
export function setRealtimeClock(unixMs: number): void {
  const ts = Buffer.alloc(16);
  const sec = Math.floor(unixMs / 1000);
  ts.writeBigInt64LE(BigInt(sec), 0);
  ts.writeBigInt64LE(BigInt(Math.min(999_999_999, Math.round((unixMs - sec * 1000) * 1e6))), 8);
  check(libc().clock_settime(CLOCK_REALTIME, ts), "set the clock (clock_settime)");
}
