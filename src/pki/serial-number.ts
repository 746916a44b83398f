import { randomBytes } from "node:crypto";

/**
 * A random 128-bit certificate serial as hex, as RFC 5280 recommends
 * (unpredictable, at most 20 octets). The top byte is forced into
 * 0x40..0x7f: positive (no sign bit) and never a leading zero, because forge
 * writes the hex verbatim and a leading 00 would be non-minimal DER that
 * strict parsers reject.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString("hex");
}
