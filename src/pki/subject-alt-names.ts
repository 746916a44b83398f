import { isIP } from "node:net";
import { CairnError } from "../errors/index.js";

/** A forge subjectAltName entry: type 2 is dNSName, type 7 iPAddress (raw network-order bytes). */
export type AltName = { type: 2; value: string } | { type: 7; value: string };

const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Builds the subjectAltName list for a serving cert. IP addresses are encoded
 * here rather than by forge, whose IPv6 parser mis-encodes embedded IPv4
 * (::ffff:10.0.0.1) and silently accepts garbage; we reject anything that is
 * not a plain IPv4 or IPv6 address (zone ids such as %eth0 included).
 */
export function subjectAltNames(dnsNames: readonly string[], ipAddresses: readonly string[]): AltName[] {
  const names: AltName[] = [];
  for (const dns of dnsNames) {
    if (dns.length > 253 || !DNS_NAME.test(dns)) {
      throw new CairnError("INVALID_ARGUMENT", `not a DNS name: ${JSON.stringify(dns)}`);
    }
    names.push({ type: 2, value: dns });
  }
  for (const ip of ipAddresses) names.push({ type: 7, value: String.fromCharCode(...ipBytes(ip)) });
  return names;
}

/** The 4 or 16 network-order bytes of an IP address literal. */
export function ipBytes(ip: string): number[] {
  const family = ip.includes("%") ? 0 : isIP(ip);
  if (family === 4) return ip.split(".").map(Number);
  if (family === 6) return ipv6Bytes(ip);
  throw new CairnError("INVALID_ARGUMENT", `not an IP address: ${JSON.stringify(ip)}`);
}

function ipv6Bytes(ip: string): number[] {
  // The WHATWG URL serializer canonicalises IPv6 to pure hex groups (embedded
  // IPv4 becomes two groups), which leaves only "::" expansion to do here.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head = "", tail] = canonical.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
