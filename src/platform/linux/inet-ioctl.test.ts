import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { libc } from "./libc.js";
import { InetControl, networkOf, parseCidr, prefixToMask } from "./inet-ioctl.js";

describe("IPv4 helpers", () => {
  it("parses CIDRs and computes masks and networks", () => {
    expect(parseCidr("10.0.2.15/24")).toEqual({ address: "10.0.2.15", prefix: 24 });
    expect(parseCidr("10.0.2.2")).toEqual({ address: "10.0.2.2", prefix: 32 });
    expect(() => parseCidr("10.0.2/24")).toThrow(/not an IPv4 CIDR/);
    expect(() => parseCidr("10.0.2.1/33")).toThrow(/not an IPv4 CIDR/);
    expect(prefixToMask(24)).toBe("255.255.255.0");
    expect(prefixToMask(0)).toBe("0.0.0.0");
    expect(prefixToMask(32)).toBe("255.255.255.255");
    expect(networkOf("10.0.2.15", 24)).toBe("10.0.2.0");
    expect(networkOf("192.168.77.200", 26)).toBe("192.168.77.192");
  });
});

// Only reads flags and provokes errors: the host's network configuration must not change.
describe.skipIf(process.platform !== "linux")("InetControl on the host (no changes)", () => {
  it("bringing an up link up is a no-op; unknown interfaces fail with the errno name", () => {
    const c = new InetControl();
    try {
      c.linkUp("lo");
      expect(() => c.linkUp("cairn-nope0")).toThrow("get flags of cairn-nope0: ENODEV");
      expect(() => c.setMtu("cairn-nope0", 1400)).toThrow("set MTU 1400 on cairn-nope0: ENODEV");
      expect(() => c.addRoute({ network: "10.99.0.0/16", dev: "cairn-nope0" })).toThrow(/add route 10.99.0.0\/16 dev cairn-nope0: ENODEV/);
    } finally {
      c.close();
    }
  });
});

const CLONE_NEWNET = 0x40000000;

// unshare(CLONE_NEWNET) moves this test thread into an empty network namespace,
// so real changes are made and checked without touching the host. Needs CAP_SYS_ADMIN.
describe.skipIf(process.getuid?.() !== 0)("InetControl in a private network namespace (root only)", () => {
  it("brings lo up, sets MTU, addresses on a label and an alias, and routes", () => {
    expect(libc().unshare(CLONE_NEWNET)).toBe(0);
    const c = new InetControl();
    try {
      c.linkUp("lo");
      c.setMtu("lo", 1400);
      c.setAddress("lo", "127.0.0.1/8");
      c.setAddress("lo:1", "10.77.0.5/24");
      c.addRoute({ network: "10.78.0.0/16", gateway: "10.77.0.1", dev: "lo", metric: 5 });
      c.addRoute({ network: "10.78.0.0/16", gateway: "10.77.0.1", dev: "lo", metric: 5 }); // idempotent
      c.addRoute({ network: "default", gateway: "10.77.0.1", dev: "lo" });
      // getifaddrs names an alias address by its label.
      expect(networkInterfaces()["lo"]?.map((a) => a.cidr)).toContain("127.0.0.1/8");
      expect(networkInterfaces()["lo:1"]?.map((a) => a.cidr)).toEqual(["10.77.0.5/24"]);
      // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask (hex, little-endian)
      const routes = readFileSync("/proc/net/route", "utf8").split("\n").slice(1).map((l) => l.trim().split(/\s+/));
      expect(routes).toContainEqual(["lo", "00004E0A", "01004D0A", "0003", "0", "0", "5", "0000FFFF", "0", "0", "0"]);
      expect(routes.some((r) => r[1] === "00000000" && r[2] === "01004D0A")).toBe(true);
    } finally {
      c.close();
    }
  });
});
