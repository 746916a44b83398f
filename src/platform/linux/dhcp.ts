import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import { buildDiscover, buildRenew, buildRequest, decodeDhcp, DhcpOption, DhcpType, leaseFromAck, messageType, type DhcpLease } from "./dhcp-packet.js";
import { errnoName } from "./errno.js";
import { check, lastErrno, libc } from "./libc.js";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_BROADCAST = 6;
const SO_BINDTODEVICE = 25;
const MSG_DONTWAIT = 0x40;
const CLIENT_PORT = 68;
const SERVER_PORT = 67;
/** How often the receive loop looks at the non-blocking socket. */
const POLL_MS = 25;

/** Sends and receives raw DHCP payloads; the seam that lets tests play the server. */
export interface DhcpTransport {
  send(packet: Buffer): void;
  /** One datagram, or undefined when none is waiting. Never blocks. */
  receive(): Buffer | undefined;
  close(): void;
}

function sockaddrIn(ip: [number, number, number, number], port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(ip).copy(b, 4);
  return b;
}

function setIntOpt(fd: number, name: number, what: string): void {
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  check(libc().setsockopt(fd, SOL_SOCKET, name, one, 4), what);
}

/**
 * A UDP socket on 0.0.0.0:68 bound to one interface. SO_BINDTODEVICE makes
 * the limited broadcast leave through that link before it has an address,
 * and keeps replies for other links out. Non-blocking: the client polls on
 * timers so PID 1's event loop never blocks.
 */
export function openDhcpSocket(ifname: string): DhcpTransport {
  const fd = check(libc().socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 17), `DHCP on ${ifname}: open socket`);
  try {
    setIntOpt(fd, SO_REUSEADDR, `DHCP on ${ifname}: SO_REUSEADDR`);
    setIntOpt(fd, SO_BROADCAST, `DHCP on ${ifname}: SO_BROADCAST`);
    const dev = Buffer.from(`${ifname}\0`, "latin1");
    check(libc().setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length), `DHCP on ${ifname}: SO_BINDTODEVICE`);
    check(libc().bind(fd, sockaddrIn([0, 0, 0, 0], CLIENT_PORT), 16), `DHCP on ${ifname}: bind :68`);
  } catch (e) {
    libc().close(fd);
    throw e;
  }
  const dst = sockaddrIn([255, 255, 255, 255], SERVER_PORT);
  const buf = Buffer.alloc(1500);
  return {
    send(packet) {
      check(libc().sendto(fd, packet, packet.length, 0, dst, 16), `DHCP on ${ifname}: send to 255.255.255.255:67`);
    },
    receive() {
      const n = libc().recvfrom(fd, buf, buf.length, MSG_DONTWAIT, null, null);
      if (n >= 0) return Buffer.from(buf.subarray(0, n));
      const err = errnoName(lastErrno());
      if (err === "EAGAIN" || err === "EINTR") return undefined;
      throw new CairnError("UNAVAILABLE", `DHCP on ${ifname}: receive: ${err}`);
    },
    close() {
      libc().close(fd);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for a server reply with our xid of one of `types`, until `until`
 * (epoch ms). Anything else on the port (other clients' traffic) is ignored.
 */
async function awaitReply(t: DhcpTransport, xid: number, mac: string, types: number[], until: number) {
  while (Date.now() < until) {
    const pkt = t.receive();
    if (!pkt) {
      await sleep(POLL_MS);
      continue;
    }
    const msg = decodeDhcp(pkt);
    if (!msg || msg.op !== 2 || msg.xid !== xid || msg.chaddr !== mac) continue;
    const type = messageType(msg);
    if (type !== undefined && types.includes(type)) return { msg, type };
  }
  return undefined;
}

/**
 * Acquires a lease: DISCOVER → OFFER → REQUEST → ACK (RFC 2131 §3.1), with
 * retransmission after 1, 2, 4, 4… s, restarting from DISCOVER on NAK,
 * until `timeoutMs`. Resolves the ACK's lease; DEADLINE_EXCEEDED otherwise.
 */
export async function acquireLease(opts: {
  ifname: string;
  mac: string;
  timeoutMs: number;
  log: Logger;
  transport?: DhcpTransport;
  xid?: number;
}): Promise<DhcpLease> {
  const t = opts.transport ?? openDhcpSocket(opts.ifname);
  const deadline = Date.now() + opts.timeoutMs;
  // The xid only pairs replies with requests; Math.random avoids waiting on the entropy pool at boot.
  let xid = opts.xid ?? Math.floor(Math.random() * 0x100000000);
  let lastSendError: unknown;
  // A link whose carrier is still coming up refuses sends (ENETDOWN): retry like a lost packet.
  const send = (pkt: Buffer): void => {
    try {
      t.send(pkt);
    } catch (e) {
      lastSendError = e;
      opts.log.debug({ err: e, ifname: opts.ifname }, "DHCP send failed, will retry");
    }
  };
  try {
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const wait = Math.min(1000 * 2 ** attempt, 4000);
      send(buildDiscover(xid, opts.mac));
      const offer = await awaitReply(t, xid, opts.mac, [DhcpType.OFFER], Math.min(deadline, Date.now() + wait));
      if (!offer) continue;
      const serverId = offer.msg.options.get(DhcpOption.SERVER_ID);
      const server = serverId ? [...serverId.subarray(0, 4)].join(".") : offer.msg.siaddr;
      opts.log.debug({ ifname: opts.ifname, offered: offer.msg.yiaddr, server }, "DHCP offer");
      for (let r = 0; r < 3 && Date.now() < deadline; r++) {
        send(buildRequest(xid, opts.mac, offer.msg.yiaddr, server));
        const reply = await awaitReply(t, xid, opts.mac, [DhcpType.ACK, DhcpType.NAK], Math.min(deadline, Date.now() + wait));
        if (!reply) continue;
        if (reply.type === DhcpType.ACK) return leaseFromAck(reply.msg);
        opts.log.warn({ ifname: opts.ifname, server }, "DHCP NAK, restarting discovery");
        break;
      }
      xid = (xid + 1) >>> 0;
    }
    throw new CairnError("DEADLINE_EXCEEDED", `DHCP on ${opts.ifname}: no lease within ${opts.timeoutMs} ms`, {
      cause: lastSendError,
    });
  } finally {
    t.close();
  }
}

/**
 * Extends a held lease (RENEWING at T1, REBINDING at T2): REQUEST with
 * ciaddr, retransmitted after 2, 4, 4… s until `timeoutMs`. Resolves the
 * ACK's lease; ABORTED on NAK (the caller must drop the address and
 * rediscover), DEADLINE_EXCEEDED when no server answered.
 */
export async function renewLease(opts: { ifname: string; mac: string; ciaddr: string; timeoutMs: number; log: Logger; transport?: DhcpTransport; xid?: number }): Promise<DhcpLease> {
  const t = opts.transport ?? openDhcpSocket(opts.ifname);
  const deadline = Date.now() + opts.timeoutMs;
  const xid = opts.xid ?? Math.floor(Math.random() * 0x100000000);
  try {
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      try {
        t.send(buildRenew(xid, opts.mac, opts.ciaddr));
      } catch (e) {
        opts.log.debug({ err: e, ifname: opts.ifname }, "DHCP renew send failed, will retry");
      }
      const reply = await awaitReply(t, xid, opts.mac, [DhcpType.ACK, DhcpType.NAK], Math.min(deadline, Date.now() + Math.min(2000 * attempt, 4000)));
      if (!reply) continue;
      if (reply.type === DhcpType.NAK) throw new CairnError("ABORTED", `DHCP on ${opts.ifname}: the server refused to extend ${opts.ciaddr} (NAK)`);
      return leaseFromAck(reply.msg);
    }
    throw new CairnError("DEADLINE_EXCEEDED", `DHCP on ${opts.ifname}: no answer to renewing ${opts.ciaddr} within ${opts.timeoutMs} ms`);
  } finally {
    t.close();
  }
}
