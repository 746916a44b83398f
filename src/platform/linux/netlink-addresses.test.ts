import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { listAddresses, parseAddrMessages } from "./netlink-addresses.js";

function attr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc((4 + data.length + 3) & ~3);
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

function newaddr(family: number, prefix: number, index: number, attrs: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([family, prefix, 0, 0, index, 0, 0, 0]), ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(20, 4);
  return Buffer.concat([h, body]);
}

const done = (): Buffer => {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(20, 0);
  h.writeUInt16LE(3, 4);
  return h;
};

describe("rtnetlink address dump parser", () => {
  it("reads IPv4 local address and label, IPv6 address with zero compression, and DONE", () => {
    const v4 = newaddr(2, 24, 2, [attr(1, Buffer.from([10, 0, 2, 15])), attr(2, Buffer.from([10, 0, 2, 15])), attr(3, Buffer.from("eth0:1\0"))]);
    const v6 = newaddr(10, 64, 2, [attr(1, Buffer.from("fe80000000000000505400fffe123456", "hex"))]);
    const r = parseAddrMessages(Buffer.concat([v4, v6, done()]));
    expect(r.done).toBe(true);
    expect(r.addresses).toEqual([
      { ifindex: 2, family: 4, cidr: "10.0.2.15/24", label: "eth0:1" },
      { ifindex: 2, family: 6, cidr: "fe80::5054:ff:fe12:3456/64", label: undefined },
    ]);
  });

  it("reports a netlink error with the errno name", () => {
    const e = Buffer.alloc(36);
    e.writeUInt32LE(36, 0);
    e.writeUInt16LE(2, 4);
    e.writeInt32LE(-1, 16);
    expect(() => parseAddrMessages(e)).toThrow("list addresses (rtnetlink): EPERM");
  });
});

// A read-only dump: safe on any Linux host.
describe.skipIf(process.platform !== "linux")("listAddresses on the host", () => {
  it("finds what getifaddrs finds for lo", () => {
    const cidrs = listAddresses().map((a) => a.cidr);
    for (const a of networkInterfaces()["lo"] ?? []) expect(cidrs).toContain(a.cidr);
  });
});
