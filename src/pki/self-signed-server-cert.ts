import { buildCertificate } from "./build-certificate.js";
import { generateRsaKey, type KeyPairPem } from "./key-pair.js";
import { subjectAltNames } from "./subject-alt-names.js";
import { resolveValidity } from "./validity.js";

/** Options for the maintenance-mode serving certificate. */
export interface SelfSignedServerCertOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/** Lifetime of a maintenance cert: it is regenerated on every maintenance boot. */
const MAINTENANCE_VALIDITY_DAYS = 365;

/**
 * Creates a self-signed serving cert for maintenance mode, when the node has
 * no config and therefore no CA yet. Clients cannot verify it against a CA;
 * they pin its SHA-256 fingerprint (shown on the console) or connect
 * insecurely to apply the first config.
 */
export function selfSignedServerCert(opts: SelfSignedServerCertOptions): KeyPairPem {
  const altNames = subjectAltNames(opts.dnsNames, opts.ipAddresses);
  const key = generateRsaKey();
  const certPem = buildCertificate({
    commonName: opts.commonName,
    publicKey: key.publicKey,
    validity: resolveValidity({}, MAINTENANCE_VALIDITY_DAYS),
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
      { name: "subjectKeyIdentifier" },
    ],
    signingKey: key.privateKey,
  });
  return { certPem, keyPem: key.privateKeyPem };
}
