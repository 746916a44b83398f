import { describe, expect, it } from "vitest";
import { readLinks } from "./net-links.js";
import { readMounts, readStats } from "./stats.js";

// Reads the host's own /proc and /sys: read-only, no root needed.
describe.skipIf(process.platform !== "linux")("stats on the host", () => {
  it("reads a consistent snapshot", async () => {
    const s = await readStats();
    expect(s.memory.total).toBeGreaterThan(s.memory.available);
    expect(s.memory.initRss).toBeGreaterThan(1024 * 1024);
    expect(s.cpu.count).toBeGreaterThan(0);
    expect(s.uptimeSeconds).toBeGreaterThan(0);
    expect(s.mounts.find((m) => m.target === "/")).toBeDefined();
  });

  it("lists loopback with its address", async () => {
    const lo = (await readLinks()).find((l) => l.name === "lo");
    expect(lo).toMatchObject({ up: true, mac: "00:00:00:00:00:00" });
    expect(lo?.addresses).toContain("127.0.0.1/8");
  });

  it("mount sizes come from statfs", async () => {
    const root = (await readMounts()).find((m) => m.target === "/");
    expect(root?.sizeBytes).toBeGreaterThan(0);
  });
});
