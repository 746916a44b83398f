import { describe, expect, it } from "vitest";
import { encodeAddrRequest, encodeRouteRequest, formatIp, ipBytes, networkAddress, parseAck, parseRouteMessages, RTM, splitCidr } from "./rtnetlink-codec.js";
import { libc } from "./libc.js";
import { listAddresses } from "./netlink-addresses.js";
import { RouteNetlink } from "./rtnetlink.js";

describe("rtnetlink codec", () => {
  it("splits CIDRs of both families and rejects bad prefixes", () => {
    expect(splitCidr("10.0.2.15/24")).toEqual({ address: "10.0.2.15", prefix: 24, family: 4 });
    expect(splitCidr("fd00::1/64")).toEqual({ address: "fd00::1", prefix: 64, family: 6 });
    expect(splitCidr("10.0.0.1")).toMatchObject({ prefix: 32 });
    expect(() => splitCidr("10.0.0.1/33")).toThrow(/prefix length must be 0-32/);
    expect(() => splitCidr("10.0.0/8")).toThrow(/not an IP address/);
  });

  it("round-trips addresses and clears host bits", () => {
    expect(formatIp(ipBytes("fd00:0:0:0:0:0:0:1"))).toBe("fd00::1");
    expect(formatIp(ipBytes("::"))).toBe("::");
    expect(formatIp(networkAddress("192.168.77.200", 26))).toBe("192.168.77.192");
    expect(formatIp(networkAddress("fd00::abcd", 112))).toBe("fd00::");
  });

  it("encodes an address add with local, address and broadcast attributes", () => {
    const m = encodeAddrRequest("add", 3, "10.5.0.2/24", 7);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(m.readUInt16LE(4)).toBe(RTM.NEWADDR);
    expect(m.readUInt16LE(6)).toBe(0x1 | 0x4 | 0x400 | 0x100); // REQUEST ACK CREATE REPLACE
    expect(m.readUInt32LE(8)).toBe(7);
    expect([m[16], m[17]]).toEqual([2, 24]);
    expect(m.readUInt32LE(20)).toBe(3);
    // IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST: 8 bytes each.
    expect(m.length).toBe(16 + 8 + 24);
    expect([...m.subarray(44, 48)]).toEqual([10, 5, 0, 255]);
    expect(encodeAddrRequest("delete", 3, "10.5.0.2/24", 8).readUInt16LE(4)).toBe(RTM.DELADDR);
  });

  it("parses the routes it encodes (an RTM_NEWROUTE message has the dump's layout)", () => {
    const msgs = Buffer.concat([
      encodeRouteRequest("add", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 2, metric: 5 }, 1),
      encodeRouteRequest("add", { destination: "default", gateway: "10.0.2.2", ifindex: 2 }, 2),
      encodeRouteRequest("add", { destination: "fd00:1::/64", ifindex: 3 }, 3),
    ]);
    const { routes, done } = parseRouteMessages(msgs);
    expect(done).toBe(false);
    expect(routes).toEqual([
      { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 2, metric: 5, family: 4, protocol: 4, scope: 0, source: undefined },
      { destination: "0.0.0.0/0", gateway: "10.0.2.2", ifindex: 2, metric: 0, family: 4, protocol: 4, scope: 0, source: undefined },
      { destination: "fd00:1::/64", gateway: undefined, ifindex: 3, metric: 0, family: 6, protocol: 4, scope: 253, source: undefined },
    ]);
    expect(() => encodeRouteRequest("add", { destination: "10.0.0.0/8", gateway: "fd00::1", ifindex: 1 }, 1)).toThrow(/address family/);
  });

  it("reads ACKs: success, errno, and messages for another request", () => {
    const ack = (seq: number, err: number) => {
      const b = Buffer.alloc(36);
      b.writeUInt32LE(36, 0);
      b.writeUInt16LE(2, 4);
      b.writeUInt32LE(seq, 8);
      b.writeInt32LE(-err, 16);
      return b;
    };
    expect(parseAck(ack(5, 0), 5)).toBe("");
    expect(parseAck(ack(5, 17), 5)).toBe("EEXIST");
    expect(parseAck(ack(4, 0), 5)).toBeUndefined();
  });
});

const CLONE_NEWNET = 0x40000000;

// A private network namespace (this worker thread only): real kernel changes without touching the host.
describe.skipIf(process.getuid?.() !== 0)("RouteNetlink in a private network namespace (root only)", () => {
  it("adds, lists and removes addresses and routes", () => {
    expect(libc().unshare(CLONE_NEWNET)).toBe(0);
    const nl = new RouteNetlink();
    try {
      nl.address("add", 1, "10.77.0.5/24");
      nl.address("add", 1, "10.77.0.5/24"); // replace: idempotent
      expect(listAddresses().map((a) => a.cidr)).toContain("10.77.0.5/24");
      // lo is down in a fresh namespace: the kernel refuses a gateway it cannot reach, and says so.
      expect(() => nl.route("add", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 })).toThrow(/add route 10.78.0.0\/16 via 10.77.0.1 on link 1: ENETUNREACH/);
    } finally {
      nl.close();
    }
  });

  it("routes on an up link appear in the dump and go away when deleted", async () => {
    expect(libc().unshare(CLONE_NEWNET)).toBe(0);
    const { InetControl } = await import("./inet-ioctl.js");
    const inet = new InetControl();
    inet.linkUp("lo");
    inet.close();
    const nl = new RouteNetlink();
    try {
      nl.address("add", 1, "10.77.0.5/24");
      nl.route("add", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 });
      nl.route("add", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 });
      const mine = () => nl.routes().filter((r) => r.destination === "10.78.0.0/16");
      expect(mine()).toEqual([expect.objectContaining({ gateway: "10.77.0.1", ifindex: 1, metric: 5, protocol: 4 })]);
      nl.route("delete", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 });
      expect(mine()).toEqual([]);
      expect(() => nl.route("delete", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 })).toThrow(/ESRCH/);
      nl.route("delete", { destination: "10.78.0.0/16", gateway: "10.77.0.1", ifindex: 1, metric: 5 }, ["ESRCH"]);
      nl.address("delete", 1, "10.77.0.5/24");
      expect(listAddresses().map((a) => a.cidr)).not.toContain("10.77.0.5/24");
    } finally {
      nl.close();
    }
  });
});
