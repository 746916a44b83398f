import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "pino";
import { mountFs, MS, type MountSpec } from "./mount.js";
import { parseMountinfo } from "./proc-parsers.js";

/**
 * The kernel file systems PID 1 needs before anything else, in order:
 * /proc first (everything else is checked through it), then /sys, /dev and
 * the writable tmpfs areas of a read-only root.
 */
export const PSEUDO_MOUNTS: readonly MountSpec[] = [
  { source: "proc", target: "/proc", fstype: "proc", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC },
  { source: "sysfs", target: "/sys", fstype: "sysfs", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC },
  // cgroup v2, the unified hierarchy: containerd and runc put workloads under it (docs/workloads.md).
  { source: "cgroup2", target: "/sys/fs/cgroup", fstype: "cgroup2", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: "nsdelegate" },
  { source: "devtmpfs", target: "/dev", fstype: "devtmpfs", flags: MS.NOSUID, data: "mode=0755" },
  { source: "devpts", target: "/dev/pts", fstype: "devpts", flags: MS.NOSUID | MS.NOEXEC, data: "gid=5,mode=0620,ptmxmode=0666" },
  { source: "tmpfs", target: "/run", fstype: "tmpfs", flags: MS.NOSUID | MS.NODEV, data: "mode=0755" },
  { source: "tmpfs", target: "/tmp", fstype: "tmpfs", flags: MS.NOSUID | MS.NODEV, data: "mode=1777" },
];

/** Targets already mounted, per /proc/self/mountinfo (empty before /proc is up). */
export function mountedTargets(): Set<string> {
  try {
    return new Set(parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8")).map((m) => m.target));
  } catch {
    return new Set();
  }
}

/**
 * Mounts the pseudo file systems that are not mounted yet: stage 1 may
 * have moved /proc, /sys and /dev into the new root already, and boot()
 * must be idempotent. They stay out of the shutdown table: nothing is lost
 * by not unmounting them, and /dev stays busy with the console open.
 */
export function mountPseudoFilesystems(log: Logger, specs: readonly MountSpec[] = PSEUDO_MOUNTS): string[] {
  const mounted: string[] = [];
  for (const spec of specs) {
    // Before /proc exists, mountinfo cannot be read; /proc/self tells whether /proc is there.
    const present = spec.target === "/proc" ? existsSync("/proc/self") : mountedTargets().has(spec.target);
    if (present) continue;
    mountFs(spec);
    mounted.push(spec.target);
  }
  log.debug({ mounted }, "pseudo file systems mounted");
  return mounted;
}
