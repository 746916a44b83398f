import { isIPv4, isIPv6 } from "node:net";
import { CairnError } from "../../errors/index.js";
import { errnoName } from "./errno.js";

/**
 * rtnetlink (RFC 3549, linux/rtnetlink.h) messages for addresses and
 * routes as pure functions: encode RTM_NEW/DEL ADDR and ROUTE requests,
 * parse RTM_GETROUTE dumps and acknowledgements. The socket lives in
 * rtnetlink.ts; everything here is unit-tested without a kernel.
 */

export const RTM = { NEWADDR: 20, DELADDR: 21, GETADDR: 22, NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26 } as const;
export const NLM_F = { REQUEST: 0x1, ACK: 0x4, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, DUMP: 0x300 } as const;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const AF_INET = 2;
const AF_INET6 = 10;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
/** The main routing table: the one `ip route` shows. */
export const RT_TABLE_MAIN = 254;
/** Routes Cairn adds carry "static" as their origin (what `ip route` shows as proto static). */
export const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RTN_UNICAST = 1;

const align4 = (n: number): number => (n + 3) & ~3;

/** A route as Cairn adds, removes and reports it. */
export interface RouteEntry {
  /** `0.0.0.0/0`, `10.5.0.0/16`, `::/0`. */
  readonly destination: string;
  readonly gateway: string | undefined;
  readonly ifindex: number;
  readonly metric: number;
  readonly family: 4 | 6;
  /** rtm_protocol: 2 kernel, 3 boot, 4 static. */
  readonly protocol: number;
  /** rtm_scope: 0 universe, 253 link, 254 host. */
  readonly scope: number;
  readonly source: string | undefined;
}

/** Splits `10.0.0.1/24` into address, prefix and family; a missing prefix means a host (/32 or /128). */
export function splitCidr(cidr: string): { address: string; prefix: number; family: 4 | 6 } {
  const [address = "", p] = cidr.split("/");
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) throw new CairnError("INVALID_ARGUMENT", `${cidr}: not an IP address with a prefix length`);
  const max = family === 4 ? 32 : 128;
  const prefix = p === undefined ? max : Number(p);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (p !== undefined && !/^\d+$/.test(p))) {
    throw new CairnError("INVALID_ARGUMENT", `${cidr}: prefix length must be 0-${max}`);
  }
  return { address, prefix, family };
}

/** The address bytes (4 or 16). */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (!isIPv6(ip)) throw new CairnError("INVALID_ARGUMENT", `${ip}: not an IP address`);
  const [head = "", tail] = ip.split("::");
  const parse = (s: string) => (s ? s.split(":") : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** Dotted or RFC 5952 text for 4 or 16 address bytes. */
export function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** The network part of an address (host bits cleared), as the kernel wants a route's destination. */
export function networkAddress(address: string, prefix: number): Buffer {
  const b = ipBytes(address);
  for (let bit = prefix; bit < b.length * 8; bit++) b[bit >> 3] = (b[bit >> 3] as number) & ~(0x80 >> (bit & 7));
  return b;
}

function attr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + data.length));
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

function message(type: number, flags: number, seq: number, body: Buffer, attrs: Buffer[]): Buffer {
  const payload = Buffer.concat([body, ...attrs]);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq, 8);
  return Buffer.concat([hdr, payload]);
}

/**
 * RTM_NEWADDR (create or replace, so a re-apply is idempotent) or
 * RTM_DELADDR for `cidr` on link `ifindex`. IPv4 gets its broadcast address,
 * which netlink (unlike SIOCSIFADDR) does not derive by itself.
 */
export function encodeAddrRequest(op: "add" | "delete", ifindex: number, cidr: string, seq: number): Buffer {
  const { address, prefix, family } = splitCidr(cidr);
  const body = Buffer.alloc(8);
  body[0] = family === 4 ? AF_INET : AF_INET6;
  body[1] = prefix;
  body.writeUInt32LE(ifindex, 4);
  const ip = ipBytes(address);
  const attrs = [attr(IFA_LOCAL, ip), attr(IFA_ADDRESS, ip)];
  if (family === 4 && prefix < 31) {
    const brd = Buffer.from(ip);
    for (let bit = prefix; bit < 32; bit++) brd[bit >> 3] = (brd[bit >> 3] as number) | (0x80 >> (bit & 7));
    attrs.push(attr(IFA_BROADCAST, brd));
  }
  const flags = NLM_F.REQUEST | NLM_F.ACK | (op === "add" ? NLM_F.CREATE | NLM_F.REPLACE : 0);
  return message(op === "add" ? RTM.NEWADDR : RTM.DELADDR, flags, seq, body, attrs);
}

/** What identifies a route to add or delete. */
export interface RouteRequest {
  readonly destination: string;
  readonly gateway?: string | undefined;
  readonly ifindex: number;
  readonly metric?: number | undefined;
  readonly source?: string | undefined;
}

/**
 * RTM_NEWROUTE (create or replace) or RTM_DELROUTE in the main table. A
 * route with a gateway has universe scope; without one it is on-link.
 */
export function encodeRouteRequest(op: "add" | "delete", r: RouteRequest, seq: number): Buffer {
  const dst = r.destination === "default" ? "0.0.0.0/0" : r.destination;
  const { address, prefix, family } = splitCidr(dst);
  if (r.gateway !== undefined && (isIPv4(r.gateway) ? 4 : 6) !== family) {
    throw new CairnError("INVALID_ARGUMENT", `route ${dst} via ${r.gateway}: gateway is not of the destination's address family`);
  }
  const body = Buffer.alloc(12);
  body[0] = family === 4 ? AF_INET : AF_INET6;
  body[1] = prefix;
  body[4] = RT_TABLE_MAIN;
  body[5] = op === "add" ? RTPROT_STATIC : 0;
  body[6] = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  body[7] = RTN_UNICAST;
  const attrs = [attr(RTA_TABLE, u32(RT_TABLE_MAIN)), attr(RTA_OIF, u32(r.ifindex))];
  if (prefix > 0) attrs.push(attr(RTA_DST, networkAddress(address, prefix)));
  if (r.gateway) attrs.push(attr(RTA_GATEWAY, ipBytes(r.gateway)));
  if (r.metric !== undefined) attrs.push(attr(RTA_PRIORITY, u32(r.metric)));
  if (r.source) attrs.push(attr(RTA_PREFSRC, ipBytes(r.source)));
  const flags = NLM_F.REQUEST | NLM_F.ACK | (op === "add" ? NLM_F.CREATE | NLM_F.REPLACE : 0);
  return message(op === "add" ? RTM.NEWROUTE : RTM.DELROUTE, flags, seq, body, attrs);
}

/** RTM_GETROUTE dump of one family. */
export function encodeRouteDump(family: 4 | 6, seq: number): Buffer {
  const body = Buffer.alloc(12);
  body[0] = family === 4 ? AF_INET : AF_INET6;
  return message(RTM.GETROUTE, NLM_F.REQUEST | NLM_F.DUMP, seq, body, []);
}

/**
 * The kernel's answer to a request with NLM_F_ACK: an NLMSG_ERROR whose
 * error is 0 on success. Returns undefined when `buf` holds no answer for
 * `seq` (keep reading), the errno name on failure, "" on success.
 */
export function parseAck(buf: Buffer, seq: number): string | undefined {
  for (let off = 0; off + NLMSG_HDRLEN <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    if (buf.readUInt16LE(off + 4) === NLMSG_ERROR && buf.readUInt32LE(off + 8) === seq) {
      const err = -buf.readInt32LE(off + NLMSG_HDRLEN);
      return err === 0 ? "" : errnoName(err);
    }
    off += align4(len);
  }
  return undefined;
}

/** Routes of the main table in an RTM_GETROUTE dump, and whether NLMSG_DONE was seen. */
export function parseRouteMessages(buf: Buffer): { routes: RouteEntry[]; done: boolean } {
  const routes: RouteEntry[] = [];
  for (let off = 0; off + NLMSG_HDRLEN <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    if (type === NLMSG_DONE) return { routes, done: true };
    if (type === NLMSG_ERROR) {
      const err = -buf.readInt32LE(off + NLMSG_HDRLEN);
      if (err !== 0) throw new CairnError("INTERNAL", `list routes (rtnetlink): ${errnoName(err)}`);
    }
    if (type === RTM.NEWROUTE && len >= NLMSG_HDRLEN + 12) {
      const m = off + NLMSG_HDRLEN;
      const fam = buf[m] as number;
      const dstLen = buf[m + 1] as number;
      let table = buf[m + 4] as number;
      const protocol = buf[m + 5] as number;
      const scope = buf[m + 6] as number;
      const rtype = buf[m + 7] as number;
      let dst: Buffer | undefined;
      let gateway: Buffer | undefined;
      let source: Buffer | undefined;
      let ifindex = 0;
      let metric = 0;
      for (let a = m + 12; a + 4 <= off + len; ) {
        const alen = buf.readUInt16LE(a);
        const atype = buf.readUInt16LE(a + 2);
        if (alen < 4) break;
        const data = buf.subarray(a + 4, a + alen);
        if (atype === RTA_DST) dst = data;
        else if (atype === RTA_GATEWAY) gateway = data;
        else if (atype === RTA_PREFSRC) source = data;
        else if (atype === RTA_OIF) ifindex = data.readUInt32LE(0);
        else if (atype === RTA_PRIORITY) metric = data.readUInt32LE(0);
        else if (atype === RTA_TABLE) table = data.readUInt32LE(0);
        a += align4(alen);
      }
      if (table === RT_TABLE_MAIN && rtype === RTN_UNICAST && (fam === AF_INET || fam === AF_INET6)) {
        const family = fam === AF_INET ? 4 : 6;
        const zero = Buffer.alloc(family === 4 ? 4 : 16);
        routes.push({
          destination: `${formatIp(dst ?? zero)}/${dstLen}`,
          gateway: gateway ? formatIp(gateway) : undefined,
          ifindex,
          metric,
          family,
          protocol,
          scope,
          source: source ? formatIp(source) : undefined,
        });
      }
    }
    off += align4(len);
  }
  return { routes, done: false };
}
