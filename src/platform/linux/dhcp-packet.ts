/**
 * DHCPv4 (RFC 2131/2132) message encoding and decoding as pure functions, so
 * the wire format is unit-tested without a network. Only what a node needs:
 * DISCOVER/REQUEST out, OFFER/ACK/NAK in, and the lease options.
 */

/** DHCP message types (option 53). */
export const DhcpType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7 } as const;

/** Option codes Cairn reads or writes. */
export const DhcpOption = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  MTU: 26,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST: 55,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  CLIENT_ID: 61,
  END: 255,
} as const;

const MAGIC = 0x63825363;
const FIXED_LEN = 236;
/** Some servers (and RFC 1542 relays) drop BOOTP messages shorter than 300 bytes. */
const MIN_LEN = 300;
/** The broadcast bit asks the server to broadcast replies: we have no address to unicast to yet. */
export const FLAG_BROADCAST = 0x8000;

/** A decoded or to-be-encoded DHCP message. Addresses are dotted quads. */
export interface DhcpMessage {
  readonly op: 1 | 2;
  readonly xid: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  readonly chaddr: string;
  readonly options: ReadonlyMap<number, Buffer>;
}

/** What a node applies from an ACK. */
export interface DhcpLease {
  readonly address: string;
  readonly prefixLength: number;
  readonly routers: readonly string[];
  readonly dns: readonly string[];
  readonly domain: string | undefined;
  readonly mtu: number | undefined;
  readonly leaseSeconds: number;
  readonly renewSeconds: number;
  /** T2: when a client that could not renew with its server asks any server (RFC 2131 §4.4.5). */
  readonly rebindSeconds: number;
  readonly serverId: string;
}

/** Encodes a message; options are written in map order, then END, then padding to 300 bytes. */
export function encodeDhcp(msg: DhcpMessage): Buffer {
  let optLen = 1;
  for (const v of msg.options.values()) optLen += 2 + v.length;
  const buf = Buffer.alloc(Math.max(MIN_LEN, FIXED_LEN + 4 + optLen));
  buf[0] = msg.op;
  buf[1] = 1; // htype ethernet
  buf[2] = 6; // hlen
  buf.writeUInt32BE(msg.xid >>> 0, 4);
  buf.writeUInt16BE(msg.flags, 10);
  ipv4ToBuffer(msg.ciaddr).copy(buf, 12);
  ipv4ToBuffer(msg.yiaddr).copy(buf, 16);
  ipv4ToBuffer(msg.siaddr).copy(buf, 20);
  ipv4ToBuffer(msg.giaddr).copy(buf, 24);
  macToBuffer(msg.chaddr).copy(buf, 28);
  buf.writeUInt32BE(MAGIC, FIXED_LEN);
  let o = FIXED_LEN + 4;
  for (const [code, value] of msg.options) {
    if (value.length > 255) throw new RangeError(`DHCP option ${code} longer than 255 bytes`);
    buf[o++] = code;
    buf[o++] = value.length;
    value.copy(buf, o);
    o += value.length;
  }
  buf[o] = DhcpOption.END;
  return buf;
}

/** Decodes a BOOTP/DHCP message; undefined for anything malformed or without the DHCP magic. */
export function decodeDhcp(buf: Buffer): DhcpMessage | undefined {
  if (buf.length < FIXED_LEN + 4 || buf.readUInt32BE(FIXED_LEN) !== MAGIC) return undefined;
  const op = buf[0];
  if (op !== 1 && op !== 2) return undefined;
  const options = new Map<number, Buffer>();
  let o = FIXED_LEN + 4;
  while (o < buf.length) {
    const code = buf[o++] as number;
    if (code === DhcpOption.PAD) continue;
    if (code === DhcpOption.END) break;
    if (o >= buf.length) return undefined;
    const len = buf[o++] as number;
    if (o + len > buf.length) return undefined;
    // RFC 3396: a repeated option continues the earlier one.
    const prev = options.get(code);
    const value = Buffer.from(buf.subarray(o, o + len));
    options.set(code, prev ? Buffer.concat([prev, value]) : value);
    o += len;
  }
  return {
    op,
    xid: buf.readUInt32BE(4),
    flags: buf.readUInt16BE(10),
    ciaddr: bufferToIpv4(buf, 12),
    yiaddr: bufferToIpv4(buf, 16),
    siaddr: bufferToIpv4(buf, 20),
    giaddr: bufferToIpv4(buf, 24),
    chaddr: [...buf.subarray(28, 34)].map((b) => b.toString(16).padStart(2, "0")).join(":"),
    options,
  };
}

/** The option-53 message type, or undefined. */
export function messageType(msg: DhcpMessage): number | undefined {
  return msg.options.get(DhcpOption.MESSAGE_TYPE)?.[0];
}

const PARAMS = Buffer.from([
  DhcpOption.SUBNET_MASK,
  DhcpOption.ROUTER,
  DhcpOption.DNS,
  DhcpOption.DOMAIN_NAME,
  DhcpOption.MTU,
  DhcpOption.LEASE_TIME,
  DhcpOption.RENEWAL_T1,
  DhcpOption.REBINDING_T2,
]);

function clientMessage(type: number, xid: number, mac: string, extra: [number, Buffer][]): DhcpMessage {
  return {
    op: 1,
    xid,
    flags: FLAG_BROADCAST,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: mac,
    options: new Map<number, Buffer>([
      [DhcpOption.MESSAGE_TYPE, Buffer.from([type])],
      [DhcpOption.CLIENT_ID, Buffer.concat([Buffer.from([1]), macToBuffer(mac)])],
      ...extra,
      [DhcpOption.PARAM_REQUEST, PARAMS],
    ]),
  };
}

/** DISCOVER: broadcast, asks for the options a node applies. */
export function buildDiscover(xid: number, mac: string): Buffer {
  return encodeDhcp(clientMessage(DhcpType.DISCOVER, xid, mac, []));
}

/** REQUEST in the SELECTING state: names the offered address and the chosen server. */
export function buildRequest(xid: number, mac: string, requestedIp: string, serverId: string): Buffer {
  return encodeDhcp(
    clientMessage(DhcpType.REQUEST, xid, mac, [
      [DhcpOption.REQUESTED_IP, ipv4ToBuffer(requestedIp)],
      [DhcpOption.SERVER_ID, ipv4ToBuffer(serverId)],
    ]),
  );
}

/**
 * REQUEST in the RENEWING (T1) or REBINDING (T2) state: the client already
 * holds `ciaddr` and names it there, with no requested-ip or server-id
 * option (RFC 2131 §4.3.2); the server answers to ciaddr, so no broadcast flag.
 */
export function buildRenew(xid: number, mac: string, ciaddr: string): Buffer {
  return encodeDhcp({ ...clientMessage(DhcpType.REQUEST, xid, mac, []), flags: 0, ciaddr });
}

/** Where a lease stands `elapsed` seconds after it was granted, and when the client should act next. */
export interface LeasePlan {
  readonly phase: "bound" | "renewing" | "rebinding" | "expired";
  /** Seconds until the next renewal attempt (or until discovery must restart). */
  readonly wakeInSeconds: number;
}

/**
 * RFC 2131 §4.4.5 timeline: bound until T1; then RENEWING with the server
 * that granted the lease until T2; then REBINDING with any server until the
 * lease ends. While retrying, wait half the time left to the next boundary,
 * at least 60 s (but never past the boundary).
 */
export function leasePlan(lease: Pick<DhcpLease, "leaseSeconds" | "renewSeconds" | "rebindSeconds">, elapsed: number): LeasePlan {
  const t1 = Math.min(lease.renewSeconds, lease.leaseSeconds);
  const t2 = Math.max(t1, Math.min(lease.rebindSeconds, lease.leaseSeconds));
  const retry = (until: number) => Math.min(until - elapsed, Math.max(60, (until - elapsed) / 2));
  if (elapsed < t1) return { phase: "bound", wakeInSeconds: t1 - elapsed };
  if (elapsed < t2) return { phase: "renewing", wakeInSeconds: retry(t2) };
  if (elapsed < lease.leaseSeconds) return { phase: "rebinding", wakeInSeconds: retry(lease.leaseSeconds) };
  return { phase: "expired", wakeInSeconds: 0 };
}

/** The lease an ACK grants. Missing lease time means infinite (RFC 2132 §9.2 default is server policy). */
export function leaseFromAck(msg: DhcpMessage): DhcpLease {
  const o = msg.options;
  const mask = o.get(DhcpOption.SUBNET_MASK);
  const leaseSeconds = o.get(DhcpOption.LEASE_TIME)?.readUInt32BE(0) ?? 0xffffffff;
  const domain = o.get(DhcpOption.DOMAIN_NAME)?.toString("ascii").replace(/\0+$/, "");
  return {
    address: msg.yiaddr,
    prefixLength: mask ? maskToPrefix(mask.readUInt32BE(0)) : classfulPrefix(msg.yiaddr),
    routers: ipv4List(o.get(DhcpOption.ROUTER)),
    dns: ipv4List(o.get(DhcpOption.DNS)),
    domain: domain || undefined,
    mtu: o.get(DhcpOption.MTU)?.readUInt16BE(0),
    leaseSeconds,
    renewSeconds: o.get(DhcpOption.RENEWAL_T1)?.readUInt32BE(0) ?? Math.floor(leaseSeconds / 2),
    rebindSeconds: o.get(DhcpOption.REBINDING_T2)?.readUInt32BE(0) ?? Math.floor(leaseSeconds * 0.875),
    serverId: ipv4List(o.get(DhcpOption.SERVER_ID))[0] ?? msg.siaddr,
  };
}

function ipv4List(b: Buffer | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; b && i + 4 <= b.length; i += 4) out.push(bufferToIpv4(b, i));
  return out;
}

/** Counts the leading ones of a netmask (255.255.255.0 → 24). */
export function maskToPrefix(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && (mask >>> bit) & 1; bit--) n++;
  return n;
}

function classfulPrefix(ip: string): number {
  const first = Number(ip.split(".")[0]);
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

/** Dotted quad to 4 bytes; throws RangeError on anything else. */
export function ipv4ToBuffer(ip: string): Buffer {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${ip}`);
  }
  return Buffer.from(parts);
}

function bufferToIpv4(b: Buffer, at: number): string {
  return [b[at], b[at + 1], b[at + 2], b[at + 3]].join(".");
}

/** `52:54:00:12:34:56` to 6 bytes. */
export function macToBuffer(mac: string): Buffer {
  const parts = mac.split(":").map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not a MAC address: ${mac}`);
  }
  return Buffer.from(parts);
}
