import { describe, expect, it } from "vitest";
import { decodeProcNetAddress, parseProcNet } from "./proc-net.js";

// From a node: machined listening on :50000 with one client connected, DHCP on :68.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:C350 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0
   1: 0F02000A:C350 0202000A:D431 01 00000010:00000020 02:0000001E 00000000     0        0 5678 4 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:C350 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9012 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000F02000A:C350 0000000000000000FFFF00000202000A:D432 01 00000000:00000000 00:00000000 00000000     0        0 9013 1 0000000000000000 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4321 2 0000000000000000 0
`;

describe("decodeProcNetAddress", () => {
  it("reads IPv4 as a little-endian word", () => {
    expect(decodeProcNetAddress("0F02000A")).toBe("10.0.2.15");
    expect(decodeProcNetAddress("0100007F")).toBe("127.0.0.1");
  });
  it("reads IPv6 as four little-endian words, compressed and with mapped IPv4 kept readable", () => {
    expect(decodeProcNetAddress("00000000000000000000000000000000")).toBe("::");
    expect(decodeProcNetAddress("00000000000000000000000001000000")).toBe("::1");
    expect(decodeProcNetAddress("0000000000000000FFFF00000F02000A")).toBe("::ffff:10.0.2.15");
    // fe80::5054:ff:fe12:3456 as the kernel prints it
    expect(decodeProcNetAddress("000080FE00000000FF005450563412FE")).toBe("fe80::5054:ff:fe12:3456");
  });
});

describe("parseProcNet", () => {
  it("parses listening and established TCP sockets with queues, uid and inode", () => {
    expect(parseProcNet(TCP, "tcp")).toEqual([
      { protocol: "tcp", localAddress: "0.0.0.0", localPort: 50000, remoteAddress: "0.0.0.0", remotePort: 0, state: "LISTEN", uid: 0, inode: 1234, txQueueBytes: 0, rxQueueBytes: 0 },
      { protocol: "tcp", localAddress: "10.0.2.15", localPort: 50000, remoteAddress: "10.0.2.2", remotePort: 54321, state: "ESTABLISHED", uid: 0, inode: 5678, txQueueBytes: 16, rxQueueBytes: 32 },
    ]);
  });
  it("parses tcp6 including v4-mapped peers", () => {
    const s = parseProcNet(TCP6, "tcp6");
    expect(s.map((x) => [x.localAddress, x.localPort, x.remoteAddress, x.state])).toEqual([
      ["::", 50000, "::", "LISTEN"],
      ["::ffff:10.0.2.15", 50000, "::ffff:10.0.2.2", "ESTABLISHED"],
    ]);
  });
  it("shows an unconnected UDP socket as UNCONN", () => {
    expect(parseProcNet(UDP, "udp")).toMatchObject([{ protocol: "udp", localPort: 68, state: "UNCONN", inode: 4321 }]);
  });
  it("ignores the header and blank text", () => {
    expect(parseProcNet("", "tcp")).toEqual([]);
  });
});
