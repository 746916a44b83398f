import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/machinery/bundle/index.js";
import { findForbidden } from "../../src/image/forbidden-files.js";
import { buildHelloImage, type BuiltImage } from "./support/image-build.js";
import { bootDisk } from "./support/image-qemu.js";

// Builds the image with the hello-init test entry (PID 1 prints a line and
// powers off) and boots it the way a node boots: OVMF, systemd-boot from the
// EFI partition, kernel + C stage 1, squashfs ROOT-A, Node as PID 1.
describe("image boot", () => {
  let image: BuiltImage;
  beforeAll(() => {
    image = buildHelloImage();
  });

  it("ships no shell, busybox or package manager in the root file system", () => {
    const files = readFileSync(image.filesList, "utf8").split("\n").filter(Boolean);
    expect(files).toContain("/usr/bin/node");
    expect(files).toContain("/usr/lib/cairn/build.json");
    expect(findForbidden(files)).toEqual([]);
  });

  it("signs a bundle that the dev release key verifies", async () => {
    const pub = readFileSync("hack/.keys/release.pub.pem", "utf8");
    const v = await verifyBundle(image.bundle, [pub]);
    expect(v.manifest.version).toBe(image.version);
    expect(v.parts.map((p) => p.name)).toEqual(["kernel", "initramfs", "rootfs"]);
  });

  it("boots UEFI -> systemd-boot -> stage 1 -> Node PID 1 on slot A and powers off", async () => {
    const run = await bootDisk({ raw: image.raw, waitFor: /CAIRN-HELLO slot=(\S+) version=(\S+)/, timeoutMs: 240_000 });
    expect(run.match, run.console.slice(-3000)).not.toBeNull();
    expect(run.match![1]).toBe("A");
    expect(run.match![2]).toBe(image.version);
    expect(run.console).toMatch(/CAIRN-HELLO-TIMING pid=1 /);
    expect(run.exitCode).toBe(0); // reboot(RB_POWER_OFF) through koffi ended QEMU
    const timing = /CAIRN-HELLO-TIMING .*/.exec(run.console)?.[0].trim();
    console.log(
      `image-boot: QEMU start -> CAIRN-HELLO ${(run.msToMatch! / 1000).toFixed(2)} s, exit ${(run.msToExit / 1000).toFixed(2)} s; ` +
        `${timing}; slot payload ${(image.sizes["slotPayload"]! / 2 ** 20).toFixed(1)} MiB, raw allocated ${(image.sizes["rawAllocated"]! / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  it("stage 1 reports a slot it cannot mount and reboots (so boot counting can fall back)", async () => {
    // ROOT-B is empty in a factory image: the squashfs mount must fail loudly.
    const run = await bootDisk({
      raw: image.raw,
      waitFor: /rebooting in 5 s/,
      timeoutMs: 180_000,
      direct: { kernel: image.kernel, initramfs: image.initramfs, append: "console=ttyS0 cairn.slot=B quiet panic=-1" },
    });
    expect(run.console).toMatch(/cairn-stage1: FATAL: mount \/dev\/vda3 as squashfs/);
    expect(run.console).not.toMatch(/CAIRN-HELLO/);
    expect(run.exitCode).toBe(0); // the guest rebooted; -no-reboot turned that into a QEMU exit
    expect(run.msToExit - run.msToMatch!).toBeGreaterThan(4_000); // it waited ~5 s so the message can be read
  });
});
