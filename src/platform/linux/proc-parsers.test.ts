import { describe, expect, it } from "vitest";
import {
  parseCmdlineSlot,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseProcStat,
  parseStatusRss,
  parseUptime,
} from "./proc-parsers.js";

// Sample text captured from a Debian 6.x cloud kernel in QEMU.
const MEMINFO = `MemTotal:         981452 kB
MemFree:          812340 kB
MemAvailable:     850112 kB
Buffers:            1024 kB
Cached:            60000 kB
HugePages_Total:       0
`;

const STAT = `cpu  1200 30 450 88000 120 0 15 0 0 0
cpu0 600 15 225 44000 60 0 8 0 0 0
cpu1 600 15 225 44000 60 0 7 0 0 0
intr 12345
ctxt 5678
btime 1700000000
`;

const DISKSTATS = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 500 10 20480 300 40 5 8192 100 0 400 400 0 0 0 0 0 0
 254       4 vda4 100 0 2048 50 20 0 4096 60 0 100 110 0 0 0 0 0 0
`;

const MOUNTINFO = `1 1 0:2 / / ro,relatime - squashfs /dev/root ro
22 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
30 1 254:4 / /var rw,relatime - ext4 /dev/vda4 rw
31 1 0:33 / /tmp/with\\040space rw - tmpfs none rw,size=1024k
`;

describe("proc parsers", () => {
  it("meminfo converts kB to bytes and keeps unitless counts", () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.get("MemTotal")).toBe(981452 * 1024);
    expect(m.get("MemAvailable")).toBe(850112 * 1024);
    expect(m.get("HugePages_Total")).toBe(0);
  });

  it("stat counts CPUs and converts ticks to seconds, nice as user", () => {
    expect(parseProcStat(STAT)).toEqual({ count: 2, user: 12.3, system: 4.5, idle: 880, iowait: 1.2 });
  });

  it("loadavg and uptime", () => {
    expect(parseLoadavg("0.52 0.58 0.59 2/123 4567\n")).toEqual({ load1: 0.52, load5: 0.58, load15: 0.59 });
    expect(parseUptime("350735.47 234388.90\n")).toBe(350735.47);
  });

  it("VmRSS from /proc/self/status", () => {
    expect(parseStatusRss("Name:\tnode\nVmRSS:\t   56320 kB\nThreads: 7\n")).toBe(56320 * 1024);
    expect(parseStatusRss("Name:\tkthreadd\n")).toBe(0);
  });

  it("diskstats reports bytes from 512-byte sectors", () => {
    const d = parseDiskstats(DISKSTATS);
    expect(d.map((x) => x.name)).toEqual(["loop0", "vda", "vda4"]);
    expect(d[1]).toEqual({ name: "vda", readBytes: 20480 * 512, writtenBytes: 8192 * 512 });
  });

  it("mountinfo: optional fields, read-only flag, escaped paths", () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(4);
    expect(m[0]).toEqual({ source: "/dev/root", target: "/", fstype: "squashfs", options: "ro,relatime,ro", readOnly: true });
    expect(m[1]).toMatchObject({ source: "proc", target: "/proc", fstype: "proc", readOnly: false });
    expect(m[2]).toMatchObject({ source: "/dev/vda4", target: "/var", fstype: "ext4" });
    expect(m[3]?.target).toBe("/tmp/with space");
  });

  it("slot from the kernel command line", () => {
    expect(parseCmdlineSlot("BOOT_IMAGE=/a quiet cairn.slot=B console=ttyS0")).toBe("B");
    expect(parseCmdlineSlot("quiet")).toBeUndefined();
    expect(parseCmdlineSlot("cairn.slot=C")).toEqual({ invalid: "C" });
  });
});
