import { createHash } from "node:crypto";
import { certificateDer } from "./parse-pem.js";

/**
 * SHA-256 over the certificate's DER, as uppercase hex bytes joined by ':'
 * ("AB:CD:..."), the format of `openssl x509 -fingerprint -sha256` and of
 * node:crypto X509Certificate.fingerprint256, so users can compare it with
 * either when pinning a maintenance-mode cert.
 */
export function certFingerprintSha256(certPem: string): string {
  const digest = createHash("sha256").update(certificateDer(certPem)).digest("hex").toUpperCase();
  return digest.match(/../g)!.join(":");
}
