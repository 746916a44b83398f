/**
 * SNTPv4 (RFC 4330) packets as pure functions: the client request, the
 * server reply (for test servers), validation of a reply against the
 * request, and the offset/delay arithmetic of RFC 4330 §5. Times are Unix
 * milliseconds (fractional allowed); on the wire they are NTP timestamps,
 * seconds since 1900 in 32.32 fixed point.
 */

export const NTP_PACKET_SIZE = 48;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;
const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;
/** Leap indicator 3: the server's clock is not synchronised. */
const LI_ALARM = 3;

/** Writes a Unix time (ms) as an NTP timestamp at `offset`. */
export function writeNtpTime(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000);
  const frac = Math.round(((unixMs - seconds * 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE((seconds + NTP_UNIX_OFFSET) >>> 0, offset);
  buf.writeUInt32BE(Math.min(frac, 2 ** 32 - 1), offset + 4);
}

/** Reads an NTP timestamp as Unix ms; 0 stays 0 (a timestamp that was never set). */
export function readNtpTime(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset);
  const frac = buf.readUInt32BE(offset + 4);
  if (seconds === 0 && frac === 0) return 0;
  // Era 0 ends in 2036: timestamps with the top bit clear are taken as era 1 (RFC 4330 §3).
  const era = seconds < 0x80000000 ? 2 ** 32 : 0;
  return (seconds + era - NTP_UNIX_OFFSET) * 1000 + (frac / 2 ** 32) * 1000;
}

/** A client request whose transmit timestamp is `transmitMs` (the server echoes it as originate). */
export function encodeSntpRequest(transmitMs: number): Buffer {
  const b = Buffer.alloc(NTP_PACKET_SIZE);
  b[0] = (0 << 6) | (VERSION << 3) | MODE_CLIENT;
  writeNtpTime(b, 40, transmitMs);
  return b;
}

/** What a server says, decoded. */
export interface SntpReply {
  readonly leap: number;
  readonly version: number;
  readonly mode: number;
  readonly stratum: number;
  /** Reference id: the upstream's address, or 4 ASCII letters (stratum 1, or a kiss code at stratum 0). */
  readonly refId: string;
  readonly originateMs: number;
  readonly receiveMs: number;
  readonly transmitMs: number;
}

export function decodeSntp(buf: Buffer): SntpReply {
  if (buf.length < NTP_PACKET_SIZE) throw new Error(`SNTP reply of ${buf.length} bytes, need ${NTP_PACKET_SIZE}`);
  const stratum = buf[1] as number;
  const ref = buf.subarray(12, 16);
  const refId = stratum <= 1 ? ref.toString("latin1").replace(/\0+$/, "") : [...ref].join(".");
  return {
    leap: (buf[0] as number) >> 6,
    version: ((buf[0] as number) >> 3) & 7,
    mode: (buf[0] as number) & 7,
    stratum,
    refId,
    originateMs: readNtpTime(buf, 24),
    receiveMs: readNtpTime(buf, 32),
    transmitMs: readNtpTime(buf, 40),
  };
}

/**
 * Checks a reply as RFC 4330 §5 asks: a server-mode answer to OUR request
 * (originate = what we sent), from a synchronised server (leap != 3,
 * stratum 1-15; stratum 0 is a kiss-o'-death), with a transmit time.
 * Returns the reply or throws naming the first problem.
 */
export function validateSntpReply(buf: Buffer, sentTransmit: Buffer): SntpReply {
  const r = decodeSntp(buf);
  if (r.mode !== MODE_SERVER) throw new Error(`SNTP reply has mode ${r.mode}, want 4 (server)`);
  if (!buf.subarray(24, 32).equals(sentTransmit.subarray(40, 48))) throw new Error("SNTP reply does not answer our request (originate timestamp differs)");
  if (r.stratum === 0) throw new Error(`SNTP server sent kiss-o'-death ${JSON.stringify(r.refId)}`);
  if (r.stratum > 15) throw new Error(`SNTP server stratum ${r.stratum} is not synchronised`);
  if (r.leap === LI_ALARM) throw new Error("SNTP server clock is not synchronised (leap indicator 3)");
  if (r.transmitMs === 0) throw new Error("SNTP reply has no transmit timestamp");
  return r;
}

/** RFC 4330 §5: clock offset and round-trip delay from the four timestamps (ms). */
export function offsetAndDelay(t1: number, t2: number, t3: number, t4: number): { offsetMs: number; delayMs: number } {
  return { offsetMs: (t2 - t1 + (t3 - t4)) / 2, delayMs: t4 - t1 - (t3 - t2) };
}

/**
 * A server reply to `request` (what a test SNTP server sends): mode 4,
 * stratum 1 with reference "LOCL", originate = the request's transmit,
 * receive and transmit times as given.
 */
export function encodeSntpReply(request: Buffer, receiveMs: number, transmitMs: number, opts: { stratum?: number; leap?: number; refId?: string } = {}): Buffer {
  const b = Buffer.alloc(NTP_PACKET_SIZE);
  const reqVersion = ((request[0] as number) >> 3) & 7;
  b[0] = ((opts.leap ?? 0) << 6) | ((reqVersion || VERSION) << 3) | MODE_SERVER;
  b[1] = opts.stratum ?? 1;
  b[2] = 6; // poll 64 s
  b[3] = 0xec; // precision ~2^-20 s
  Buffer.from((opts.refId ?? "LOCL").padEnd(4, "\0").slice(0, 4), "latin1").copy(b, 12);
  writeNtpTime(b, 16, transmitMs); // reference time: "set just now"
  request.copy(b, 24, 40, 48);
  writeNtpTime(b, 32, receiveMs);
  writeNtpTime(b, 40, transmitMs);
  return b;
}
