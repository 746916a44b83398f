import { readdir, readFile, statfs } from "node:fs/promises";
import type { MountInfo, StatsSnapshot } from "../platform.js";
import { nodeError } from "./errno.js";
import { countOpenFds } from "./open-fds.js";
import { readLinks } from "./net-links.js";
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseProcStat,
  parseStatusRss,
  parseUptime,
} from "./proc-parsers.js";

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw nodeError(`read ${path}`, e);
  }
}

/**
 * Mounts from /proc/self/mountinfo with sizes from statfs. A mount that
 * cannot be statted (a hung network fs, a race with unmount) reports 0
 * rather than failing the whole list.
 */
export async function readMounts(): Promise<MountInfo[]> {
  const out: MountInfo[] = [];
  for (const m of parseMountinfo(await read("/proc/self/mountinfo"))) {
    let sizeBytes = 0;
    let freeBytes = 0;
    let usedBytes = 0;
    try {
      const s = await statfs(m.target);
      sizeBytes = s.blocks * s.bsize;
      freeBytes = s.bavail * s.bsize;
      usedBytes = (s.blocks - s.bfree) * s.bsize;
    } catch {
      // keep the zeros
    }
    out.push({ ...m, sizeBytes, freeBytes, usedBytes });
  }
  return out;
}

/** Whole disks: /sys/block lists those and never partitions. */
async function wholeDisks(): Promise<Set<string>> {
  try {
    return new Set(await readdir("/sys/block"));
  } catch {
    return new Set();
  }
}

async function diskSizeBytes(name: string): Promise<number> {
  try {
    return Number((await readFile(`/sys/block/${name}/size`, "utf8")).trim()) * 512;
  } catch {
    return 0;
  }
}

/**
 * One snapshot of node statistics from /proc and /sys. initRss comes from
 * /proc/self/status rather than process.memoryUsage(), which throws in
 * PID 1 when /proc is not mounted yet and costs a full heap walk besides.
 */
export async function readStats(): Promise<StatsSnapshot> {
  const [meminfo, stat, loadavg, diskstats, status, uptime] = await Promise.all([
    read("/proc/meminfo"),
    read("/proc/stat"),
    read("/proc/loadavg"),
    read("/proc/diskstats"),
    read("/proc/self/status"),
    read("/proc/uptime"),
  ]);
  const mem = parseMeminfo(meminfo);
  const disksSeen = await wholeDisks();
  const disks = [];
  for (const d of parseDiskstats(diskstats)) {
    // Skip partitions, and loop/ram devices that never did I/O (they are always listed).
    if (!disksSeen.has(d.name)) continue;
    if (/^(loop|ram|zram)/.test(d.name) && d.readBytes === 0 && d.writtenBytes === 0) continue;
    disks.push({ name: d.name, sizeBytes: await diskSizeBytes(d.name), readBytes: d.readBytes, writtenBytes: d.writtenBytes });
  }
  return {
    memory: {
      total: mem.get("MemTotal") ?? 0,
      free: mem.get("MemFree") ?? 0,
      available: mem.get("MemAvailable") ?? 0,
      buffers: mem.get("Buffers") ?? 0,
      cached: mem.get("Cached") ?? 0,
      initRss: parseStatusRss(status),
    },
    cpu: parseProcStat(stat),
    load: parseLoadavg(loadavg),
    disks,
    mounts: await readMounts(),
    network: await readLinks(),
    uptimeSeconds: parseUptime(uptime),
    initOpenFds: await countOpenFds(),
  };
}
