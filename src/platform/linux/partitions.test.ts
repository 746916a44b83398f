import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listPartitions, parseUevent, waitForPartition } from "./partitions.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A fake /sys: devices/…/vda/vda{1,4} with /sys/class/block symlinks, as the kernel lays it out. */
function fakeSys(): string {
  dir = mkdtempSync(join(tmpdir(), "cairn-sys-"));
  const disk = join(dir, "devices", "virtio2", "block", "vda");
  const cls = join(dir, "class", "block");
  mkdirSync(cls, { recursive: true });
  mkdirSync(disk, { recursive: true });
  writeFileSync(join(disk, "uevent"), "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
  symlinkSync(disk, join(cls, "vda"));
  for (const [n, name] of [[1, "EFI"], [4, "EPHEMERAL"]] as const) {
    const p = join(disk, `vda${n}`);
    mkdirSync(p);
    writeFileSync(join(p, "uevent"), `MAJOR=254\nMINOR=${n}\nDEVNAME=vda${n}\nDEVTYPE=partition\nPARTN=${n}\nPARTNAME=${name}\n`);
    symlinkSync(p, join(cls, `vda${n}`));
  }
  return cls;
}

describe("partitions", () => {
  it("parses uevent KEY=value lines", () => {
    expect(parseUevent("DEVNAME=vda4\nPARTNAME=EPHEMERAL\n\n")).toEqual(
      new Map([
        ["DEVNAME", "vda4"],
        ["PARTNAME", "EPHEMERAL"],
      ]),
    );
  });

  it("lists partitions with their disk, number and GPT name", async () => {
    const parts = await listPartitions(fakeSys());
    expect(parts.sort((a, b) => a.number - b.number)).toEqual([
      { device: "/dev/vda1", disk: "/dev/vda", number: 1, name: "EFI" },
      { device: "/dev/vda4", disk: "/dev/vda", number: 4, name: "EPHEMERAL" },
    ]);
  });

  it("waits with a bound and lists what it saw", async () => {
    const sys = fakeSys();
    await expect(waitForPartition("EPHEMERAL", { timeoutMs: 100, sysBlock: sys })).resolves.toMatchObject({ device: "/dev/vda4" });
    await expect(waitForPartition("STATE", { timeoutMs: 150, sysBlock: sys, pollMs: 20 })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "find partition STATE: not found within 150 ms",
    });
  });
});
