import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { MachineConfig } from "../machinery/config/index.js";
import { writeFileAtomic } from "../machinery/fs/index.js";
import type { LinkStatus } from "../platform/index.js";
// Not ../pki/index.js: that loads node-forge, which only the configured
// path needs (imported there on demand); maintenance mode boots without it.
import type { KeyPairPem } from "../pki/key-pair.js";
import { selfSignedServerCert } from "../pki/self-signed-server-cert.js";

/** Names every serving certificate carries, so a client that reaches the node through a port forward on loopback can verify it. */
const ALWAYS = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };

function linkIps(links: readonly LinkStatus[]): string[] {
  return links.flatMap((l) => l.addresses.map((a) => a.split("/")[0] ?? "")).filter((a) => a !== "" && !a.startsWith("fe80"));
}

/**
 * Key generation takes seconds under emulation (RSA), so identities are kept
 * on STATE and reused while their inputs (the key below) and validity hold.
 */
async function cached(stateDir: string, name: string, key: string, mint: () => KeyPairPem | Promise<KeyPairPem>): Promise<KeyPairPem> {
  const path = join(stateDir, "pki", `${name}.json`);
  const keyHash = createHash("sha256").update(key).digest("hex");
  try {
    const saved = JSON.parse(await readFile(path, "utf8")) as { keyHash: string; certPem: string; keyPem: string };
    // node:crypto reads RSA (serving) and ECDSA (maintenance) certificates alike.
    const notAfter = Date.parse(new X509Certificate(saved.certPem).validTo);
    const dayMs = 86_400_000;
    if (saved.keyHash === keyHash && notAfter - Date.now() > 30 * dayMs) return { certPem: saved.certPem, keyPem: saved.keyPem };
  } catch {
    // Missing or unreadable: mint a new one below.
  }
  const pair = await mint();
  await writeFileAtomic(path, JSON.stringify({ keyHash, ...pair }), { mode: 0o600 });
  return pair;
}

/** Maintenance mode: a self-signed certificate; its fingerprint is printed so the first apply can pin it. Stable across reboots. */
export async function maintenanceIdentity(stateDir: string): Promise<KeyPairPem & { fingerprint: string }> {
  const pair = await cached(stateDir, "maintenance", "maintenance-v1", () =>
    selfSignedServerCert({ commonName: "cairn-maintenance", dnsNames: ALWAYS.dnsNames, ipAddresses: ALWAYS.ipAddresses }),
  );
  return { ...pair, fingerprint: new X509Certificate(pair.certPem).fingerprint256 };
}

/** Configured mode: a serving certificate minted from the OS CA in the config, for the node's names and addresses. */
export async function servingIdentity(stateDir: string, cfg: MachineConfig, links: readonly LinkStatus[]): Promise<KeyPairPem> {
  const key = cfg.machine.ca.key;
  if (!key) throw new Error("machine.ca.key is required to mint the serving certificate");
  const sans = cfg.machine.api.certSANs;
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(":");
  const hostname = cfg.machine.hostname;
  const dnsNames = [...new Set([...ALWAYS.dnsNames, ...(hostname ? [hostname] : []), ...sans.filter((s) => !isIp(s))])].sort();
  const ipAddresses = [...new Set([...ALWAYS.ipAddresses, ...linkIps(links), ...sans.filter(isIp)])].sort();
  const inputs = JSON.stringify({ ca: cfg.machine.ca.cert, dnsNames, ipAddresses });
  return cached(stateDir, "serving", inputs, async () => (await import("../pki/issue-server-cert.js")).issueServerCert({ certPem: cfg.machine.ca.cert, keyPem: key }, { commonName: hostname ?? "cairn-node", dnsNames, ipAddresses }));
}
