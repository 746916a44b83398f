import { createPrivateKey, sign } from "node:crypto";
import forge from "node-forge";
import { CairnError } from "../errors/index.js";
import { randomSerialNumber } from "./serial-number.js";

/** Everything needed to sign one certificate. No issuer means self-signed. */
export interface CertificateSpec {
  readonly commonName: string;
  /** Each becomes its own O attribute; client certs carry their roles here. */
  readonly organizations?: readonly string[];
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly validity: { readonly notBefore: Date; readonly notAfter: Date };
  /** forge extension descriptors, e.g. { name: "keyUsage", digitalSignature: true }. */
  readonly extensions: readonly object[];
  /** The signing CA; its subject becomes our issuer. Omitted: self-signed. */
  readonly issuer?: forge.pki.Certificate;
  /** The issuer's key (or the cert's own key when self-signed). */
  readonly signingKey: forge.pki.rsa.PrivateKey;
}

/** X.520 upper bound for commonName and organizationName. */
const MAX_NAME = 64;

/**
 * Signs a v3 certificate with SHA-256 and returns it as PEM. The single place
 * that drives forge's certificate builder, so serials, name limits and the
 * signature algorithm are the same for every cert Cairn mints.
 */
export function buildCertificate(spec: CertificateSpec): string {
  checkName("commonName", spec.commonName);
  for (const o of spec.organizations ?? []) checkName("organization", o);

  const cert = forge.pki.createCertificate();
  cert.serialNumber = randomSerialNumber();
  cert.publicKey = spec.publicKey;
  cert.validity.notBefore = spec.validity.notBefore;
  cert.validity.notAfter = spec.validity.notAfter;
  const subject: forge.pki.CertificateField[] = [
    { name: "commonName", value: spec.commonName },
    ...(spec.organizations ?? []).map((value) => ({ name: "organizationName", value })),
  ];
  cert.setSubject(subject);
  cert.setIssuer(spec.issuer ? spec.issuer.subject.attributes : subject);
  // Extensions last: subjectKeyIdentifier is computed from cert.publicKey.
  cert.setExtensions([...spec.extensions]);
  signNatively(cert, spec.signingKey);
  return forge.pki.certificateToPem(cert);
}

/**
 * What forge's cert.sign(key, sha256) does, with the RSA signature made by
 * node:crypto: forge's pure-JavaScript modular exponentiation took 0.8 s per
 * certificate on the host and tens of seconds under TCG (minutes with V8's
 * lite mode), which machined pays when it mints its serving cert.
 */
function signNatively(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): void {
  const oid = forge.pki.oids["sha256WithRSAEncryption"] as string;
  const c = cert as forge.pki.Certificate & { signatureOid: string; siginfo: { algorithmOid: string }; tbsCertificate: forge.asn1.Asn1 };
  c.signatureOid = oid;
  c.siginfo.algorithmOid = oid;
  // getTBSCertificate is public in forge but missing from its type definitions.
  c.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), "binary");
  const der = sign("sha256", tbs, createPrivateKey(forge.pki.privateKeyToPem(key)));
  c.signature = der.toString("binary");
}

function checkName(field: string, value: string): void {
  if (value.length === 0 || value.length > MAX_NAME) {
    throw new CairnError("INVALID_ARGUMENT", `${field} must be 1 to ${MAX_NAME} characters, got ${value.length}`);
  }
}
