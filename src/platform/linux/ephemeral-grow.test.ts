import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addKernelPartition, deleteKernelPartition } from "./block-device.js";
import { growEphemeral, growPartitionToDiskEnd } from "./ephemeral-grow.js";
import { readGptPartitions } from "./gpt-disk.js";
import { MountTable } from "./mount.js";

const MiB = 1024 * 1024;

function have(bin: string, arg = "-V"): boolean {
  try {
    execFileSync(bin, [arg], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** CAP_SYS_RESOURCE is bit 24 of the effective capability set. */
function hasCapSysResource(): boolean {
  const m = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? ((BigInt(`0x${m[1]}`) >> 24n) & 1n) === 1n : false;
}

const canRun = process.getuid?.() === 0 && existsSync("/dev/loop-control") && have("sgdisk", "--version") && have("mkfs.ext4");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // keep cleaning the rest
    }
  }
  cleanups.length = 0;
});

// Needs root (losetup, mount, BLKPG), a loop device and sgdisk/mkfs.ext4 to build the fixture.
describe.skipIf(!canRun)("growEphemeral on a loop device (root only)", () => {
  it("rewrites the GPT, resizes the kernel partition with BLKPG and grows the mounted ext4", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-grow-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const img = join(dir, "disk.img");
    writeFileSync(img, "");
    truncateSync(img, 48 * MiB);
    execFileSync("sgdisk", ["-n1:2048:+4M", "-c1:EFI", "-t1:ef00", "-n2:0:+4M", "-c2:STATE", "-n3:0:0", "-c3:EPHEMERAL", img], { stdio: "ignore" });
    const loop = execFileSync("losetup", ["-f", "--show", img], { encoding: "utf8" }).trim();
    cleanups.push(() => execFileSync("losetup", ["-d", loop]));
    const fd = openSync(loop, "r+");
    cleanups.push(() => closeSync(fd));
    // This host's kernel may not scan partitions on loop devices: add the one we need by hand.
    const eph = readGptPartitions(fd, { sectorSize: 512, device: loop }).find((p) => p.name === "EPHEMERAL");
    if (!eph) throw new Error("fixture has no EPHEMERAL");
    const partDev = `${loop}p3`;
    if (!existsSync(partDev)) {
      addKernelPartition(fd, loop, 3, eph.firstLba * 512n, (eph.lastLba - eph.firstLba + 1n) * 512n);
      cleanups.push(() => deleteKernelPartition(fd, loop, 3));
    }
    execFileSync("mkfs.ext4", ["-q", "-F", partDev], { stdio: "ignore" });
    const mnt = join(dir, "var");
    mkdirSync(mnt);
    const table = new MountTable();
    table.mount({ source: partDev, target: mnt, fstype: "ext4" });
    cleanups.push(() => table.unmountAll());
    const before = statfsSync(mnt);

    truncateSync(img, 96 * MiB);
    execFileSync("losetup", ["-c", loop]);
    const part = { device: partDev, disk: loop, number: 3, name: "EPHEMERAL" };
    const r = growPartitionToDiskEnd(part, "EPHEMERAL");
    expect(r).toMatchObject({ tableRewritten: true, kernelResized: true });
    expect(BigInt(readFileSync(`/sys/class/block/${basename(partDev)}/size`, "utf8").trim()) * 512n).toBe(r.partitionBytes);
    expect(execFileSync("sgdisk", ["-v", img], { encoding: "utf8" })).toContain("No problems found");
    expect(growPartitionToDiskEnd(part, "EPHEMERAL")).toMatchObject({ tableRewritten: false, kernelResized: false });

    if (!hasCapSysResource()) {
      // Containers often drop CAP_SYS_RESOURCE, which EXT4_IOC_RESIZE_FS requires; PID 1 in the VM has it.
      expect(() => growEphemeral(part, mnt, "EPHEMERAL")).toThrow(/^grow ext4 at .* blocks: EPERM$/);
      return;
    }
    const g = growEphemeral(part, mnt, "EPHEMERAL");
    expect(g).toMatchObject({ tableRewritten: false, kernelResized: false });
    const after = statfsSync(mnt);
    expect(after.blocks * after.bsize).toBeGreaterThan(before.blocks * before.bsize + 40 * MiB);
    expect(growEphemeral(part, mnt, "EPHEMERAL").fsBlocks).toBe(g.fsBlocks);
  });
});
