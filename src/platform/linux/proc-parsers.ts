/**
 * Pure parsers for the /proc text files behind `stats()` and `mounts()`.
 * They take the file's text so unit tests run on sample text from a real
 * kernel without a VM. Units are converted to bytes and seconds here.
 */

/** /proc/meminfo values in bytes, keyed by field name (`MemTotal`, `Cached`, ...). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    out.set(m[1] as string, line.trimEnd().endsWith("kB") ? value * 1024 : value);
  }
  return out;
}

/** Aggregate CPU time in seconds from the `cpu` line of /proc/stat, and the CPU count. */
export function parseProcStat(
  text: string,
  clockTicks = 100,
): { count: number; user: number; system: number; idle: number; iowait: number } {
  let count = 0;
  let total = { user: 0, system: 0, idle: 0, iowait: 0 };
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "cpu") {
      // user nice system idle iowait irq softirq ...; nice counts as user time.
      const n = f.slice(1).map(Number);
      total = {
        user: ((n[0] ?? 0) + (n[1] ?? 0)) / clockTicks,
        system: (n[2] ?? 0) / clockTicks,
        idle: (n[3] ?? 0) / clockTicks,
        iowait: (n[4] ?? 0) / clockTicks,
      };
    } else if (/^cpu\d+$/.test(f[0] ?? "")) {
      count++;
    }
  }
  return { count, ...total };
}

/** The three load averages of /proc/loadavg. */
export function parseLoadavg(text: string): { load1: number; load5: number; load15: number } {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return { load1: a ?? 0, load5: b ?? 0, load15: c ?? 0 };
}

/** Seconds since boot from /proc/uptime. */
export function parseUptime(text: string): number {
  return Number(text.trim().split(/\s+/)[0] ?? 0);
}

/** Resident set size in bytes from /proc/<pid>/status (`VmRSS`); 0 when absent (kernel threads). */
export function parseStatusRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** A disk line of /proc/diskstats; sectors there are always 512 bytes. */
export interface DiskCounters {
  readonly name: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

/**
 * Per-device I/O counters from /proc/diskstats. Partitions, loop and ram
 * devices with no I/O are kept: callers filter by what /sys says is a disk.
 */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    // major minor name reads merged sectorsRead msRead writes merged sectorsWritten ...
    out.push({ name: f[2] as string, readBytes: Number(f[5]) * 512, writtenBytes: Number(f[9]) * 512 });
  }
  return out;
}

/** One line of /proc/self/mountinfo, before statfs adds sizes. */
export interface MountEntry {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  readonly options: string;
  readonly readOnly: boolean;
}

/**
 * Parses /proc/self/mountinfo:
 * `id parent maj:min root target mountOpts [optional...] - fstype source superOpts`.
 * Options are the per-mount and super-block options joined; paths are
 * unescaped (`\040` is a space).
 */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (dash < 0 || f.length < dash + 3) continue;
    const mountOpts = f[5] ?? "";
    const superOpts = f[dash + 3] ?? "";
    out.push({
      source: unescapeMountPath(f[dash + 2] as string),
      target: unescapeMountPath(f[4] as string),
      fstype: f[dash + 1] as string,
      options: superOpts ? `${mountOpts},${superOpts}` : mountOpts,
      readOnly: mountOpts.split(",").includes("ro"),
    });
  }
  return out;
}

/** The kernel escapes space, tab, newline and backslash in mount paths as octal. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** `cairn.slot=A` (or B) from /proc/cmdline; undefined when absent, an error text when malformed. */
export function parseCmdlineSlot(cmdline: string): "A" | "B" | undefined | { invalid: string } {
  for (const arg of cmdline.trim().split(/\s+/)) {
    if (!arg.startsWith("cairn.slot=")) continue;
    const v = arg.slice("cairn.slot=".length);
    if (v === "A" || v === "B") return v;
    return { invalid: v };
  }
  return undefined;
}
