import { buildCertificate } from "./build-certificate.js";
import { loadCa } from "./ca-key-pair.js";
import { generateRsaKey, type KeyPairPem } from "./key-pair.js";
import { subjectAltNames } from "./subject-alt-names.js";
import { resolveValidity } from "./validity.js";

/** Options for a serving certificate (the node's machine API). */
export interface IssueServerCertOptions {
  commonName: string;
  /** DNS SANs; clients connecting by name match against these. */
  dnsNames: string[];
  /** IPv4 and IPv6 SANs; clients connecting by address match against these. */
  ipAddresses: string[];
  /** Lifetime in days; default 365. */
  validityDays?: number;
}

/**
 * Issues a TLS server certificate signed by `ca`, with the given names as
 * subjectAltNames (modern clients ignore the CN for hostname checks). The node
 * calls this at boot with machine.ca and machine.api.certSANs plus its own
 * addresses, so clients holding only the CA can verify it.
 */
export function issueServerCert(ca: KeyPairPem, opts: IssueServerCertOptions): KeyPairPem {
  const issuer = loadCa(ca);
  const altNames = subjectAltNames(opts.dnsNames, opts.ipAddresses);
  const key = generateRsaKey();
  const certPem = buildCertificate({
    commonName: opts.commonName,
    publicKey: key.publicKey,
    validity: resolveValidity({ validityDays: opts.validityDays }, 365),
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
      { name: "subjectKeyIdentifier" },
      { name: "authorityKeyIdentifier", keyIdentifier: issuer.keyIdentifier },
    ],
    issuer: issuer.cert,
    signingKey: issuer.privateKey,
  });
  return { certPem, keyPem: key.privateKeyPem };
}
