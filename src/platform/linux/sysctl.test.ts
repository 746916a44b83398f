import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isValidHostname } from "./hostname.js";
import { applySysctls, sysctlPath } from "./sysctl.js";

describe("sysctl", () => {
  it("maps dotted and slash keys, rejects traversal", () => {
    expect(sysctlPath("net.ipv4.ip_forward")).toBe("/proc/sys/net/ipv4/ip_forward");
    expect(sysctlPath("net/ipv4/conf/eth0.100/rp_filter")).toBe("/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
    expect(() => sysctlPath("net/../../etc/x")).toThrow(/not a valid key/);
    expect(() => sysctlPath("a b")).toThrow(/not a valid key/);
  });

  it("writes values under a root and names the key on failure", async () => {
    const root = mkdtempSync(join(tmpdir(), "cairn-sysctl-"));
    try {
      mkdirSync(join(root, "vm"));
      await applySysctls({ "vm.swappiness": "10" }, root);
      expect(readFileSync(join(root, "vm/swappiness"), "utf8")).toBe("10");
      await expect(applySysctls({ "nope.x": "1" }, root)).rejects.toMatchObject({ code: "NOT_FOUND", message: "sysctl nope.x=1: ENOENT" });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("hostname validation", () => {
  it("accepts RFC 1123 names and rejects the rest", () => {
    expect(isValidHostname("node-1")).toBe(true);
    expect(isValidHostname("node-1.cluster.local")).toBe(true);
    expect(isValidHostname("-bad")).toBe(false);
    expect(isValidHostname("bad_")).toBe(false);
    expect(isValidHostname("")).toBe(false);
    expect(isValidHostname("a".repeat(65))).toBe(false);
  });
});
