import forge from "node-forge";
import { CairnError } from "../errors/index.js";
import type { KeyPairPem } from "./key-pair.js";
import { parseCertificate, parsePrivateKey } from "./parse-pem.js";

/** A CA ready to sign: parsed cert, its key, and the key identifier issued certs point back to. */
export interface LoadedCa {
  readonly cert: forge.pki.Certificate;
  readonly privateKey: forge.pki.rsa.PrivateKey;
  /** Raw bytes of the CA's subjectKeyIdentifier, for authorityKeyIdentifier. */
  readonly keyIdentifier: string;
}

/**
 * Parses and checks a CA key pair before anything is signed with it: the
 * cert must be a CA (basicConstraints cA) and the key must belong to it.
 * Signing with a mismatched key would produce certs that verify nowhere,
 * and the failure would only show up later as an opaque TLS error.
 */
export function loadCa(ca: KeyPairPem): LoadedCa {
  const cert = parseCertificate(ca.certPem, "CA certificate");
  const privateKey = parsePrivateKey(ca.keyPem, "CA private key");
  const bc = cert.getExtension("basicConstraints") as { cA?: boolean } | null;
  if (bc?.cA !== true) {
    throw new CairnError("INVALID_ARGUMENT", "CA certificate is not a CA (basicConstraints cA is not set)");
  }
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  if (publicKey.n.compareTo(privateKey.n) !== 0 || publicKey.e.compareTo(privateKey.e) !== 0) {
    throw new CairnError("INVALID_ARGUMENT", "CA private key does not belong to the CA certificate");
  }
  const ski = cert.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | null;
  const keyIdentifier = ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : cert.generateSubjectKeyIdentifier().getBytes();
  return { cert, privateKey, keyIdentifier };
}

/**
 * Throws a CairnError INVALID_ARGUMENT unless `ca` is a usable CA key pair
 * (a CA certificate and its matching key). For loaders of secrets and
 * machine configs that want to fail at parse time, not at first signing.
 */
export function checkCaKeyPair(ca: KeyPairPem): void {
  loadCa(ca);
}
