import { describe, expect, it } from "vitest";
import { createLinuxPlatform } from "./linux-platform.js";

// boot(), setHostname, configureNetwork and powerAction change the machine: they run only in the
// QEMU e2e. These methods only read /proc and /sys, so they are safe on the host.
describe.skipIf(process.platform !== "linux")("createLinuxPlatform read-only methods on the host", () => {
  const p = createLinuxPlatform();

  it("is metal with the image's paths and identity hostPath", () => {
    expect(p.mode).toBe("metal");
    expect(p.paths).toEqual({ state: "/system/state", ephemeral: "/var" });
    expect(p.hostPath("/var/log/machined.log")).toBe("/var/log/machined.log");
    expect(createLinuxPlatform({ paths: { state: "/s" } }).paths).toEqual({ state: "/s", ephemeral: "/var" });
  });

  it("reads stats, mounts and links", async () => {
    const [stats, mounts, links] = await Promise.all([p.stats(), p.mounts(), p.links()]);
    expect(stats.cpu.count).toBeGreaterThan(0);
    expect(mounts.some((m) => m.target === "/proc" && m.fstype === "proc")).toBe(true);
    expect(links.some((l) => l.name === "lo")).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)("reads the kernel log", async () => {
    const ac = new AbortController();
    let n = 0;
    for await (const r of p.kernelLog({ follow: false, signal: ac.signal })) {
      expect(r.seq).toBeGreaterThanOrEqual(0);
      n++;
    }
    expect(n).toBeGreaterThan(0);
  });

  it("tracks children through the reaper before boot", () => {
    p.reaper.track(123456);
    p.reaper.untrack(123456);
  });
});
