import { certFingerprintSha256, issueServerCert, selfSignedServerCert, type KeyPairPem } from "../pki/index.js";
import type { MachineConfig } from "../machinery/config/index.js";
import type { LinkStatus } from "../platform/index.js";

/** Names every serving certificate carries, so a client that reaches the node through a port forward on loopback can verify it. */
const ALWAYS = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };

function linkIps(links: readonly LinkStatus[]): string[] {
  return links.flatMap((l) => l.addresses.map((a) => a.split("/")[0] ?? "")).filter((a) => a !== "" && !a.startsWith("fe80"));
}

/** Maintenance mode: a fresh self-signed certificate; its fingerprint is printed so the first apply can pin it. */
export function maintenanceIdentity(links: readonly LinkStatus[]): KeyPairPem & { fingerprint: string } {
  const pair = selfSignedServerCert({ commonName: "cairn-maintenance", dnsNames: ALWAYS.dnsNames, ipAddresses: [...new Set([...ALWAYS.ipAddresses, ...linkIps(links)])] });
  return { ...pair, fingerprint: certFingerprintSha256(pair.certPem) };
}

/** Configured mode: a serving certificate minted from the OS CA in the config, for the node's names and addresses. */
export function servingIdentity(cfg: MachineConfig, links: readonly LinkStatus[]): KeyPairPem {
  const key = cfg.machine.ca.key;
  if (!key) throw new Error("machine.ca.key is required to mint the serving certificate");
  const sans = cfg.machine.api.certSANs;
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(":");
  const hostname = cfg.machine.hostname;
  return issueServerCert(
    { certPem: cfg.machine.ca.cert, keyPem: key },
    {
      commonName: hostname ?? "cairn-node",
      dnsNames: [...new Set([...ALWAYS.dnsNames, ...(hostname ? [hostname] : []), ...sans.filter((s) => !isIp(s))])],
      ipAddresses: [...new Set([...ALWAYS.ipAddresses, ...linkIps(links), ...sans.filter(isIp)])],
    },
  );
}
