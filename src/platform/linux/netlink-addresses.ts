import { CairnError } from "../../errors/index.js";
import { errnoName } from "./errno.js";
import { check, lastErrno, libc } from "./libc.js";
import { formatIp as formatIpBytes } from "./rtnetlink-codec.js";

const AF_NETLINK = 16;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const NLMSG_HDRLEN = 16;
const IFADDRMSG_LEN = 8;

/** One address of one link, as rtnetlink reports it. */
export interface LinkAddress {
  readonly ifindex: number;
  readonly family: 4 | 6;
  /** `10.0.2.15/24` or `fe80::1/64`. */
  readonly cidr: string;
  /** IPv4 label (`eth0`, `eth0:1`); absent for IPv6. */
  readonly label: string | undefined;
}

const align4 = (n: number): number => (n + 3) & ~3;

function formatIp(b: Buffer, family: number): string {
  return formatIpBytes(family === AF_INET ? b.subarray(0, 4) : b.subarray(0, 16));
}

/**
 * Parses a buffer of rtnetlink messages from an RTM_GETADDR dump. Returns
 * the addresses and whether NLMSG_DONE was seen. IPv4 takes IFA_LOCAL (on
 * point-to-point links IFA_ADDRESS is the peer); IPv6 has only IFA_ADDRESS.
 */
export function parseAddrMessages(buf: Buffer): { addresses: LinkAddress[]; done: boolean } {
  const addresses: LinkAddress[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    if (type === NLMSG_DONE) return { addresses, done: true };
    if (type === NLMSG_ERROR) {
      const err = -buf.readInt32LE(off + NLMSG_HDRLEN);
      throw new CairnError("INTERNAL", `list addresses (rtnetlink): ${errnoName(err)}`);
    }
    if (type === RTM_NEWADDR && len >= NLMSG_HDRLEN + IFADDRMSG_LEN) {
      const m = off + NLMSG_HDRLEN;
      const family = buf[m] as number;
      const prefix = buf[m + 1] as number;
      const ifindex = buf.readUInt32LE(m + 4);
      let local: Buffer | undefined;
      let address: Buffer | undefined;
      let label: string | undefined;
      let a = m + IFADDRMSG_LEN;
      while (a + 4 <= off + len) {
        const alen = buf.readUInt16LE(a);
        const atype = buf.readUInt16LE(a + 2);
        if (alen < 4) break;
        const data = buf.subarray(a + 4, a + alen);
        if (atype === IFA_LOCAL) local = data;
        else if (atype === IFA_ADDRESS) address = data;
        else if (atype === IFA_LABEL) label = data.toString("latin1").replace(/\0.*$/s, "");
        a += align4(alen);
      }
      const ip = family === AF_INET ? (local ?? address) : address;
      if (ip && (family === AF_INET || family === AF_INET6)) {
        addresses.push({ ifindex, family: family === AF_INET ? 4 : 6, cidr: `${formatIp(ip, family)}/${prefix}`, label });
      }
    }
    off += align4(len);
  }
  return { addresses, done: false };
}

/**
 * Every IPv4 and IPv6 address of every link, by an rtnetlink dump. Used
 * instead of os.networkInterfaces(), which hides links that are up but not
 * yet RUNNING (carrier still coming up right after configuration). The
 * socket has a 2 s receive timeout so PID 1 never blocks on it for long.
 */
export function listAddresses(): LinkAddress[] {
  const fd = check(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "list addresses: open rtnetlink socket");
  try {
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(2n, 0);
    check(libc().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), "list addresses: SO_RCVTIMEO");
    const req = Buffer.alloc(NLMSG_HDRLEN + IFADDRMSG_LEN);
    req.writeUInt32LE(req.length, 0);
    req.writeUInt16LE(RTM_GETADDR, 4);
    req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
    req.writeUInt32LE(1, 8);
    const kernel = Buffer.alloc(12);
    kernel.writeUInt16LE(AF_NETLINK, 0);
    check(libc().sendto(fd, req, req.length, 0, kernel, 12), "list addresses: send RTM_GETADDR");
    const out: LinkAddress[] = [];
    const buf = Buffer.alloc(32768);
    for (;;) {
      const n = libc().recvfrom(fd, buf, buf.length, 0, null, null);
      if (n < 0) throw new CairnError("UNAVAILABLE", `list addresses: receive: ${errnoName(lastErrno())}`);
      const r = parseAddrMessages(buf.subarray(0, n));
      out.push(...r.addresses);
      if (r.done || n === 0) return out;
    }
  } finally {
    libc().close(fd);
  }
}
