import { describe, expect, it } from "vitest";
import {
  buildDiscover,
  buildRequest,
  decodeDhcp,
  DhcpOption,
  DhcpType,
  encodeDhcp,
  FLAG_BROADCAST,
  leaseFromAck,
  maskToPrefix,
  messageType,
} from "./dhcp-packet.js";

const MAC = "52:54:00:12:34:56";

/** What QEMU's user-mode network (slirp) answers. */
function slirpReply(type: number, xid: number): Buffer {
  return encodeDhcp({
    op: 2,
    xid,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "10.0.2.15",
    siaddr: "10.0.2.2",
    giaddr: "0.0.0.0",
    chaddr: MAC,
    options: new Map([
      [DhcpOption.MESSAGE_TYPE, Buffer.from([type])],
      [DhcpOption.SERVER_ID, Buffer.from([10, 0, 2, 2])],
      [DhcpOption.SUBNET_MASK, Buffer.from([255, 255, 255, 0])],
      [DhcpOption.ROUTER, Buffer.from([10, 0, 2, 2])],
      [DhcpOption.DNS, Buffer.from([10, 0, 2, 3])],
      [DhcpOption.LEASE_TIME, Buffer.from([0, 1, 0x51, 0x80])],
    ]),
  });
}

describe("DHCP codec", () => {
  it("DISCOVER has BOOTP framing, magic, broadcast flag and is at least 300 bytes", () => {
    const b = buildDiscover(0xdeadbeef, MAC);
    expect(b.length).toBeGreaterThanOrEqual(300);
    expect([b[0], b[1], b[2]]).toEqual([1, 1, 6]);
    expect(b.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(b.readUInt32BE(236)).toBe(0x63825363);
    const m = decodeDhcp(b);
    expect(m?.flags).toBe(FLAG_BROADCAST);
    expect(m?.chaddr).toBe(MAC);
    expect(m && messageType(m)).toBe(DhcpType.DISCOVER);
    expect(m?.options.get(DhcpOption.CLIENT_ID)).toEqual(Buffer.from([1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]));
  });

  it("REQUEST names the offered address and the server", () => {
    const m = decodeDhcp(buildRequest(7, MAC, "10.0.2.15", "10.0.2.2"));
    expect(m && messageType(m)).toBe(DhcpType.REQUEST);
    expect(m?.options.get(DhcpOption.REQUESTED_IP)).toEqual(Buffer.from([10, 0, 2, 15]));
    expect(m?.options.get(DhcpOption.SERVER_ID)).toEqual(Buffer.from([10, 0, 2, 2]));
  });

  it("decodes a slirp ACK into a lease", () => {
    const m = decodeDhcp(slirpReply(DhcpType.ACK, 7));
    expect(m?.xid).toBe(7);
    expect(m && leaseFromAck(m)).toEqual({
      address: "10.0.2.15",
      prefixLength: 24,
      routers: ["10.0.2.2"],
      dns: ["10.0.2.3"],
      domain: undefined,
      mtu: undefined,
      leaseSeconds: 86400,
      renewSeconds: 43200,
      rebindSeconds: 75600,
      serverId: "10.0.2.2",
    });
  });

  it("skips pads, joins split options (RFC 3396), rejects truncation and missing magic", () => {
    const b = slirpReply(DhcpType.OFFER, 1);
    const body = Buffer.from([0, 0, DhcpOption.DNS, 4, 1, 1, 1, 1, DhcpOption.DNS, 4, 8, 8, 8, 8, 255]);
    const withSplit = Buffer.concat([b.subarray(0, 240), body]);
    expect(decodeDhcp(withSplit)?.options.get(DhcpOption.DNS)).toEqual(Buffer.from([1, 1, 1, 1, 8, 8, 8, 8]));
    expect(decodeDhcp(Buffer.concat([b.subarray(0, 240), Buffer.from([DhcpOption.DNS, 9, 1])]))).toBeUndefined();
    const noMagic = Buffer.from(b);
    noMagic.writeUInt32BE(0, 236);
    expect(decodeDhcp(noMagic)).toBeUndefined();
    expect(decodeDhcp(Buffer.alloc(10))).toBeUndefined();
  });

  it("netmask to prefix", () => {
    expect(maskToPrefix(0xffffff00)).toBe(24);
    expect(maskToPrefix(0xffff0000)).toBe(16);
    expect(maskToPrefix(0)).toBe(0);
    expect(maskToPrefix(0xffffffff)).toBe(32);
  });
});
