import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { acquireLease, renewLease, type DhcpTransport } from "./dhcp.js";
import { decodeDhcp, DhcpOption, DhcpType, encodeDhcp, leaseFromAck, leasePlan, messageType } from "./dhcp-packet.js";

const MAC = "52:54:00:12:34:56";
const log = pino({ level: "silent" });

/** Plays QEMU's slirp DHCP server; `dropFirst` loses that many client packets, `nakFirst` NAKs the first REQUEST. */
function fakeServer(opts: { dropFirst?: number; nakFirst?: boolean; noise?: boolean } = {}) {
  const queue: Buffer[] = [];
  const seen: number[] = [];
  let dropped = 0;
  let naked = false;
  let closed = false;
  const reply = (xid: number, type: number): Buffer =>
    encodeDhcp({
      op: 2,
      xid,
      flags: 0x8000,
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
  const t: DhcpTransport = {
    send(p) {
      const m = decodeDhcp(p);
      if (!m) throw new Error("client sent garbage");
      const type = messageType(m) ?? 0;
      seen.push(type);
      if (dropped < (opts.dropFirst ?? 0)) {
        dropped++;
        return;
      }
      // Traffic for someone else must be ignored by the client.
      if (opts.noise) queue.push(reply((m.xid + 99) >>> 0, DhcpType.ACK));
      if (type === DhcpType.DISCOVER) queue.push(reply(m.xid, DhcpType.OFFER));
      if (type === DhcpType.REQUEST && m.ciaddr !== "0.0.0.0") {
        // RENEWING/REBINDING: the held address is in ciaddr, no requested-ip, no broadcast flag.
        expect(m.options.has(DhcpOption.REQUESTED_IP)).toBe(false);
        expect(m.flags).toBe(0);
        queue.push(reply(m.xid, opts.nakFirst ? DhcpType.NAK : DhcpType.ACK));
        return;
      }
      if (type === DhcpType.REQUEST) {
        expect(m.options.get(DhcpOption.REQUESTED_IP)).toEqual(Buffer.from([10, 0, 2, 15]));
        queue.push(reply(m.xid, opts.nakFirst && !naked ? DhcpType.NAK : DhcpType.ACK));
        naked = true;
      }
    },
    receive: () => queue.shift(),
    close: () => void (closed = true),
  };
  return { t, seen, isClosed: () => closed };
}

describe("DHCP client state machine", () => {
  it("DISCOVER, OFFER, REQUEST, ACK gives the slirp lease and closes the socket", async () => {
    const s = fakeServer({ noise: true });
    const lease = await acquireLease({ ifname: "eth0", mac: MAC, timeoutMs: 2000, log, transport: s.t });
    expect(lease).toMatchObject({ address: "10.0.2.15", prefixLength: 24, routers: ["10.0.2.2"], dns: ["10.0.2.3"] });
    expect(s.seen).toEqual([DhcpType.DISCOVER, DhcpType.REQUEST]);
    expect(s.isClosed()).toBe(true);
  });

  it("retransmits a lost DISCOVER", async () => {
    const s = fakeServer({ dropFirst: 1 });
    await acquireLease({ ifname: "eth0", mac: MAC, timeoutMs: 3000, log, transport: s.t });
    expect(s.seen).toEqual([DhcpType.DISCOVER, DhcpType.DISCOVER, DhcpType.REQUEST]);
  });

  it("restarts from DISCOVER after a NAK", async () => {
    const s = fakeServer({ nakFirst: true });
    await acquireLease({ ifname: "eth0", mac: MAC, timeoutMs: 3000, log, transport: s.t });
    expect(s.seen).toEqual([DhcpType.DISCOVER, DhcpType.REQUEST, DhcpType.DISCOVER, DhcpType.REQUEST]);
  });

  it("retries when sending fails (carrier not up yet)", async () => {
    const s = fakeServer();
    let failures = 1;
    const flaky: DhcpTransport = {
      ...s.t,
      send(p) {
        if (failures-- > 0) throw new Error("ENETDOWN");
        s.t.send(p);
      },
    };
    await acquireLease({ ifname: "eth0", mac: MAC, timeoutMs: 3000, log, transport: flaky });
    expect(s.seen).toEqual([DhcpType.DISCOVER, DhcpType.REQUEST]);
  });

  it("gives up with DEADLINE_EXCEEDED", async () => {
    const s = fakeServer({ dropFirst: 100 });
    await expect(acquireLease({ ifname: "eth0", mac: MAC, timeoutMs: 300, log, transport: s.t })).rejects.toMatchObject({
      code: "DEADLINE_EXCEEDED",
      message: "DHCP on eth0: no lease within 300 ms",
    });
    expect(s.isClosed()).toBe(true);
  });
});

describe("DHCP lease renewal (RFC 2131 4.4.5)", () => {
  it("renews with ciaddr and gets the lease back", async () => {
    const s = fakeServer();
    const lease = await renewLease({ ifname: "eth0", mac: MAC, ciaddr: "10.0.2.15", timeoutMs: 2000, log, transport: s.t });
    expect(lease).toMatchObject({ address: "10.0.2.15", leaseSeconds: 86400, renewSeconds: 43200, rebindSeconds: 75600 });
    expect(s.seen).toEqual([DhcpType.REQUEST]);
    expect(s.isClosed()).toBe(true);
  });

  it("a NAK to a renewal is ABORTED (drop the address, rediscover)", async () => {
    const s = fakeServer({ nakFirst: true });
    await expect(renewLease({ ifname: "eth0", mac: MAC, ciaddr: "10.0.2.15", timeoutMs: 2000, log, transport: s.t })).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("plans T1, T2 and expiry with half-the-remaining-time retries of at least 60 s", () => {
    const l = { leaseSeconds: 1000, renewSeconds: 500, rebindSeconds: 875 };
    expect(leasePlan(l, 0)).toEqual({ phase: "bound", wakeInSeconds: 500 });
    expect(leasePlan(l, 500)).toEqual({ phase: "renewing", wakeInSeconds: 187.5 });
    expect(leasePlan(l, 800)).toEqual({ phase: "renewing", wakeInSeconds: 60 });
    expect(leasePlan(l, 850)).toEqual({ phase: "renewing", wakeInSeconds: 25 });
    expect(leasePlan(l, 875)).toEqual({ phase: "rebinding", wakeInSeconds: 62.5 });
    expect(leasePlan(l, 1000)).toEqual({ phase: "expired", wakeInSeconds: 0 });
    // T1/T2 from the server win over the defaults; a missing T2 is 7/8 of the lease.
    const options = new Map([
      [DhcpOption.MESSAGE_TYPE, Buffer.from([5])],
      [DhcpOption.LEASE_TIME, Buffer.from([0, 0, 3, 232])],
      [DhcpOption.RENEWAL_T1, Buffer.from([0, 0, 0, 100])],
    ]);
    const ack = decodeDhcp(encodeDhcp({ op: 2, xid: 1, flags: 0, ciaddr: "0.0.0.0", yiaddr: "10.0.2.15", siaddr: "10.0.2.2", giaddr: "0.0.0.0", chaddr: MAC, options }))!;
    expect(leaseFromAck(ack)).toMatchObject({ leaseSeconds: 1000, renewSeconds: 100, rebindSeconds: 875 });
  });
});

// Binding :68 on the host could collide with its own DHCP client; a private network namespace cannot.
describe.skipIf(process.getuid?.() !== 0)("openDhcpSocket in a private network namespace (root only)", () => {
  it("opens, binds :68 to a device, polls without blocking, closes", async () => {
    const { libc } = await import("./libc.js");
    const { InetControl } = await import("./inet-ioctl.js");
    expect(libc().unshare(0x40000000)).toBe(0);
    const c = new InetControl();
    c.linkUp("lo");
    c.close();
    const { openDhcpSocket } = await import("./dhcp.js");
    const t = openDhcpSocket("lo");
    expect(t.receive()).toBeUndefined();
    expect(() => openDhcpSocket("cairn-nope0")).toThrow("DHCP on cairn-nope0: SO_BINDTODEVICE: ENODEV");
    t.close();
  });
});
