import { certFingerprintSha256 } from "./fingerprint.js";
import { parseCertificate } from "./parse-pem.js";

/** The facts about a certificate that the CLI prints and the node checks. */
export interface CertInfo {
  commonName: string;
  /** All O attributes in order; for client certs these are the roles. */
  organizations: string[];
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA. */
  isCa: boolean;
  fingerprintSha256: string;
  dnsNames: string[];
  /** IP SANs; IPv6 in compressed form, e.g. "::1". */
  ipAddresses: string[];
}

/**
 * Reads a PEM certificate into plain data, so callers (nodectl config info,
 * machined's cert rotation, tests) never need forge. Throws CairnError
 * INVALID_ARGUMENT for input that is not an RSA X.509 certificate.
 */
export function inspectCert(certPem: string): CertInfo {
  const cert = parseCertificate(certPem);
  const attr = (name: string): string[] =>
    cert.subject.attributes.filter((a) => a.name === name).map((a) => String(a.value));
  const bc = cert.getExtension("basicConstraints") as { cA?: boolean } | null;
  const san = cert.getExtension("subjectAltName") as { altNames?: { type: number; value: string; ip?: string }[] } | null;
  const altNames = san?.altNames ?? [];
  return {
    commonName: attr("commonName")[0] ?? "",
    organizations: attr("organizationName"),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    isCa: bc?.cA === true,
    fingerprintSha256: certFingerprintSha256(certPem),
    dnsNames: altNames.filter((n) => n.type === 2).map((n) => n.value),
    ipAddresses: altNames.filter((n) => n.type === 7 && n.ip !== undefined).map((n) => n.ip as string),
  };
}

