import { buildCertificate } from "./build-certificate.js";
import { generateRsaKey, type KeyPairPem } from "./key-pair.js";
import { resolveValidity } from "./validity.js";

/** Options for a new self-signed CA. */
export interface GenerateCaOptions {
  commonName: string;
  /** Lifetime in days; default 3650 (ten years, like talosctl gen secrets). */
  validityDays?: number;
}

/**
 * Creates the cluster's root CA: self-signed, cA true, allowed only to sign
 * certs and CRLs. Nodes verify client certs against it and mint their own
 * serving certs with it, so this key pair is the cluster's root of trust.
 */
export function generateCa(opts: GenerateCaOptions): KeyPairPem {
  const key = generateRsaKey();
  const certPem = buildCertificate({
    commonName: opts.commonName,
    publicKey: key.publicKey,
    validity: resolveValidity({ validityDays: opts.validityDays }, 3650),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      { name: "subjectKeyIdentifier" },
    ],
    signingKey: key.privateKey,
  });
  return { certPem, keyPem: key.privateKeyPem };
}
