import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { BlockDeviceSnapshot, MountInfo, ProcessSnapshot, SocketSnapshot } from "../platform.js";
import { parseMeminfo } from "./proc-parsers.js";
import { parseProcNet } from "./proc-net.js";
import { parseCmdline, parsePidStat } from "./proc-process.js";
import { ueventDevice } from "./sys-block.js";

/** USER_HZ: /proc reports CPU times in these ticks on every Linux ABI Cairn ships (amd64). */
const CLOCK_TICKS = 100;
/** amd64 page size: /proc/<pid>/stat counts rss in pages. */
const PAGE_BYTES = 4096;

const readText = (path: string) => readFile(path, "utf8").catch(() => "");

/**
 * Reads every process (or those `include` keeps) from /proc. A process can
 * exit between readdir and read: it is skipped, never an error.
 */
export async function readProcesses(include: (pid: number, ppid: number) => boolean = () => true, procDir = "/proc"): Promise<ProcessSnapshot[]> {
  const out: ProcessSnapshot[] = [];
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = parsePidStat(await readText(`${procDir}/${entry}/stat`));
    if (!stat || !include(stat.pid, stat.ppid)) continue;
    out.push({
      pid: stat.pid,
      ppid: stat.ppid,
      state: stat.state,
      name: stat.comm,
      cmdline: parseCmdline(await readText(`${procDir}/${entry}/cmdline`)),
      rssBytes: stat.rssPages * PAGE_BYTES,
      cpuSeconds: stat.cpuTicks / CLOCK_TICKS,
      threads: stat.threads,
      startSeconds: stat.startTicks / CLOCK_TICKS,
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** /proc/meminfo, kB converted to bytes. */
export async function readMeminfo(path = "/proc/meminfo"): Promise<Map<string, number>> {
  return parseMeminfo(await readFile(path, "utf8"));
}

/**
 * Every socket of /proc/net/{tcp,tcp6,udp,udp6}; with `inodes`, only those
 * sockets (a process's own, from its fd table). A missing file (no IPv6) is
 * an empty list.
 */
export async function readSockets(inodes?: ReadonlySet<number>, netDir = "/proc/net"): Promise<SocketSnapshot[]> {
  const out: SocketSnapshot[] = [];
  for (const protocol of ["tcp", "tcp6", "udp", "udp6"] as const) {
    for (const s of parseProcNet(await readText(`${netDir}/${protocol}`), protocol)) {
      if (!inodes || inodes.has(s.inode)) out.push(s);
    }
  }
  return out.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.localPort - b.localPort);
}

/** Socket inodes of one process's open fds (`socket:[123]` links). */
export async function socketInodes(pid: number | "self"): Promise<Set<number>> {
  const out = new Set<number>();
  const dir = `/proc/${pid}/fd`;
  for (const fd of await readdir(dir).catch(() => [] as string[])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`${dir}/${fd}`).catch(() => ""));
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/**
 * Disks and partitions from /sys/class/block, with GPT labels (PARTNAME)
 * and the usage of the file systems mounted from them. Loop, ram and zram
 * devices of size 0 (unused) are left out. Disks come first, each followed
 * by its partitions in partition order.
 */
export async function readBlockDevices(mounts: readonly MountInfo[], sysDir = "/sys/class/block"): Promise<BlockDeviceSnapshot[]> {
  const found: BlockDeviceSnapshot[] = [];
  for (const entry of await readdir(sysDir).catch(() => [] as string[])) {
    const base = `${sysDir}/${entry}`;
    const dev = ueventDevice(await readText(`${base}/uevent`));
    if (!dev) continue;
    const sizeBytes = Number((await readText(`${base}/size`)).trim() || 0) * 512;
    if (/^(loop|ram|zram)/.test(dev.name) && sizeBytes === 0) continue;
    // A partition's sysfs directory sits inside its disk's.
    const parent = dev.type === "partition" ? basename(dirname(await realpath(base).catch(() => base))) : "";
    const model = dev.type === "disk" ? ((await readText(`${base}/device/model`)) || (await readText(`${base}/serial`))).trim() : "";
    const mine = mounts.filter((m) => m.source === `/dev/${dev.name}`);
    const first = mine[0];
    found.push({
      name: dev.name,
      type: dev.type,
      parent,
      sizeBytes,
      partitionNumber: dev.partitionNumber,
      partitionLabel: dev.partitionLabel,
      readOnly: (await readText(`${base}/ro`)).trim() === "1",
      model,
      mountpoints: mine.map((m) => m.target),
      fstype: first?.fstype ?? "",
      fsSizeBytes: first?.sizeBytes ?? 0,
      fsUsedBytes: first?.usedBytes ?? 0,
      fsAvailableBytes: first?.freeBytes ?? 0,
    });
  }
  return orderDevices(found);
}

/** Disks by name, each followed by its partitions by number. */
export function orderDevices<T extends { name: string; type: string; parent: string; partitionNumber: number }>(devices: readonly T[]): T[] {
  const disks = devices.filter((d) => d.type !== "partition").sort((a, b) => a.name.localeCompare(b.name));
  const out: T[] = [];
  for (const d of disks) {
    out.push(d, ...devices.filter((p) => p.type === "partition" && p.parent === d.name).sort((a, b) => a.partitionNumber - b.partitionNumber));
  }
  // Partitions whose disk was not listed still show.
  out.push(...devices.filter((p) => p.type === "partition" && !out.includes(p)));
  return out;
}
