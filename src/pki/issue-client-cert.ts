import { buildCertificate } from "./build-certificate.js";
import { loadCa } from "./ca-key-pair.js";
import { generateRsaKey, type KeyPairPem } from "./key-pair.js";
import { resolveValidity } from "./validity.js";

/** Options for a client (nodectl) certificate. */
export interface IssueClientCertOptions {
  commonName: string;
  /** Each role, e.g. "os:admin", becomes one O entry; the API authorizes on these. */
  roles: string[];
  /** Lifetime in days; default 365. Ignored for a bound given explicitly below. */
  validityDays?: number;
  /** Explicit start, e.g. in the past to mint an expired cert in tests. */
  notBefore?: Date;
  /** Explicit end; must be after notBefore. */
  notAfter?: Date;
}

/**
 * Issues a TLS client certificate signed by `ca`. The roles ride in the
 * subject's O attributes (as in talosctl), so the server derives permissions
 * from the verified peer certificate alone, with no user database on the node.
 */
export function issueClientCert(ca: KeyPairPem, opts: IssueClientCertOptions): KeyPairPem {
  const issuer = loadCa(ca);
  const key = generateRsaKey();
  const certPem = buildCertificate({
    commonName: opts.commonName,
    organizations: opts.roles,
    publicKey: key.publicKey,
    validity: resolveValidity(opts, 365),
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
      { name: "subjectKeyIdentifier" },
      { name: "authorityKeyIdentifier", keyIdentifier: issuer.keyIdentifier },
    ],
    issuer: issuer.cert,
    signingKey: issuer.privateKey,
  });
  return { certPem, keyPem: key.privateKeyPem };
}
