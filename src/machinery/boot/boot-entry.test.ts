import { describe, expect, it } from "vitest";
import { bootEntry, bootEntryFileName, kernelCmdline, loaderConf } from "./boot-entry.js";

describe("boot entries", () => {
  it("names slot A without a counter and an upgraded slot with tries left", () => {
    expect(bootEntryFileName("A")).toBe("cairn-a.conf");
    expect(bootEntryFileName("B", 3)).toBe("cairn-b+3.conf");
  });

  it("boots the slot's own kernel and initramfs with its cairn.slot", () => {
    const e = bootEntry("B", "0.2.0");
    expect(e).toContain("linux /cairn/b/vmlinuz\n");
    expect(e).toContain("initrd /cairn/b/initramfs.zst\n");
    expect(e).toContain("version 0.2.0\n");
    expect(e).toMatch(/^options .*cairn\.slot=B/m);
    expect(kernelCmdline("A")).toMatch(/console=ttyS0.*panic=-1/);
  });

  it("boots without a menu, defaulting to the cairn entries", () => {
    expect(loaderConf()).toMatch(/^timeout 0$/m);
    expect(loaderConf()).toMatch(/^default cairn-\*$/m);
  });
});
