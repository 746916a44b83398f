import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { libc } from "./libc.js";
import { NetworkConfigurator, resolveInterfaceName } from "./network.js";

const CLONE_NEWNET = 0x40000000;
const log = pino({ level: "silent" });

describe("resolveInterfaceName", () => {
  it("prefers the name and needs one of name or mac", async () => {
    expect(await resolveInterfaceName({ name: "eth0", dhcp: false, addresses: [], routes: [] })).toBe("eth0");
    await expect(resolveInterfaceName({ dhcp: false, addresses: [], routes: [] })).rejects.toThrow(/needs a name or a mac/);
    await expect(resolveInterfaceName({ mac: "02:00:00:00:00:99", dhcp: false, addresses: [], routes: [] })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

// All changes happen in a private network namespace of this test thread, never on the host.
describe.skipIf(process.getuid?.() !== 0)("NetworkConfigurator in a private network namespace (root only)", () => {
  it("applies static addresses, routes and nameservers; reports failures per interface", async () => {
    expect(libc().unshare(CLONE_NEWNET)).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "cairn-net-"));
    const net = new NetworkConfigurator({ resolvConfPath: join(dir, "resolv.conf"), dhcpTimeoutMs: 100 });
    try {
      const links = await net.configure(
        {
          interfaces: [{ name: "lo", dhcp: false, addresses: ["127.0.0.1/8", "10.77.0.5/24"], routes: [{ network: "10.78.0.0/16", gateway: "10.77.0.1" }] }],
          nameservers: ["1.1.1.1"],
        },
        log,
      );
      expect(links.find((l) => l.name === "lo")?.addresses).toEqual(expect.arrayContaining(["127.0.0.1/8", "10.77.0.5/24"]));
      expect(readFileSync("/proc/net/route", "utf8")).toMatch(/lo\s+00004E0A\s+01004D0A/);
      expect(readFileSync(join(dir, "resolv.conf"), "utf8")).toContain("nameserver 1.1.1.1\n");
      // Dropped from the config: the address and the route go away live, the rest stays.
      const after = await net.configure(
        { interfaces: [{ name: "lo", dhcp: false, addresses: ["127.0.0.1/8", "10.77.0.6/24"], routes: [], mtu: 1400 }], nameservers: [] },
        log,
      );
      const lo = after.find((l) => l.name === "lo");
      expect(lo?.addresses).toEqual(expect.arrayContaining(["127.0.0.1/8", "10.77.0.6/24"]));
      expect(lo?.addresses).not.toContain("10.77.0.5/24");
      expect(readFileSync("/proc/net/route", "utf8")).not.toMatch(/lo\s+00004E0A\s+01004D0A/);
      expect(readFileSync(join(dir, "resolv.conf"), "utf8")).not.toContain("nameserver");
      await expect(
        net.configure({ interfaces: [{ name: "cairn-nope0", dhcp: false, addresses: [], routes: [] }], nameservers: [] }, log),
      ).rejects.toThrow("configure network: cairn-nope0: network interface cairn-nope0: no such link");
    } finally {
      net.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
