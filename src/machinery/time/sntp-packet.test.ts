import { describe, expect, it } from "vitest";
import { decodeSntp, encodeSntpReply, encodeSntpRequest, offsetAndDelay, readNtpTime, validateSntpReply, writeNtpTime } from "./sntp-packet.js";

describe("SNTP packet codec (RFC 4330)", () => {
  it("writes and reads NTP timestamps, including the Unix epoch and sub-ms fractions", () => {
    const b = Buffer.alloc(8);
    writeNtpTime(b, 0, 0);
    expect(b.readUInt32BE(0)).toBe(2_208_988_800);
    const t = Date.UTC(2026, 10, 25, 23, 30, 0) + 123.456;
    writeNtpTime(b, 0, t);
    expect(readNtpTime(b, 0)).toBeCloseTo(t, 3);
    expect(readNtpTime(Buffer.alloc(8), 0)).toBe(0);
    // After 2036-02-07 the seconds field wraps: era 1.
    const after2036 = Date.UTC(2040, 0, 1);
    writeNtpTime(b, 0, after2036);
    expect(readNtpTime(b, 0)).toBe(after2036);
  });

  it("encodes a v4 client request carrying its transmit time", () => {
    const req = encodeSntpRequest(1_700_000_000_000);
    expect(req.length).toBe(48);
    expect(req[0]).toBe(0x23); // LI 0, VN 4, mode 3
    expect(readNtpTime(req, 40)).toBe(1_700_000_000_000);
  });

  it("a server reply echoes the request and validates; offset and delay follow RFC 4330 section 5", () => {
    const t1 = 1_700_000_000_000;
    const req = encodeSntpRequest(t1);
    // Server clock 2.5 s ahead, 10 ms each way, 1 ms in the server.
    const t2 = t1 + 10 + 2500;
    const t3 = t2 + 1;
    const t4 = t1 + 21;
    const reply = validateSntpReply(encodeSntpReply(req, t2, t3), req);
    expect(reply).toMatchObject({ mode: 4, stratum: 1, refId: "LOCL", leap: 0, version: 4 });
    expect(reply.originateMs).toBe(t1);
    const { offsetMs, delayMs } = offsetAndDelay(t1, reply.receiveMs, reply.transmitMs, t4);
    expect(offsetMs).toBeCloseTo(2500, 3);
    expect(delayMs).toBeCloseTo(20, 3);
  });

  it("rejects replies that are not answers to us or come from unsynchronised servers", () => {
    const req = encodeSntpRequest(1_700_000_000_000);
    const other = encodeSntpRequest(1_700_000_000_001);
    expect(() => validateSntpReply(encodeSntpReply(other, 1, 2), req)).toThrow(/originate timestamp differs/);
    expect(() => validateSntpReply(encodeSntpReply(req, 1, 2, { stratum: 0, refId: "RATE" }), req)).toThrow(/kiss-o'-death "RATE"/);
    expect(() => validateSntpReply(encodeSntpReply(req, 1, 2, { leap: 3 }), req)).toThrow(/leap indicator 3/);
    expect(() => validateSntpReply(encodeSntpReply(req, 1, 2, { stratum: 16 }), req)).toThrow(/stratum 16/);
    expect(() => validateSntpReply(req, req)).toThrow(/mode 3/);
    expect(() => decodeSntp(Buffer.alloc(47))).toThrow(/47 bytes/);
    // Stratum 2+: the reference id is the upstream's IPv4 address.
    const s2 = encodeSntpReply(req, 1, 2, { stratum: 2 });
    s2.set([10, 0, 2, 2], 12);
    expect(decodeSntp(s2).refId).toBe("10.0.2.2");
  });
});
