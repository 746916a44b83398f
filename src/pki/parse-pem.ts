import forge from "node-forge";
import { CairnError } from "../errors/index.js";

/**
 * Parses a PEM certificate with forge, turning forge's exceptions into a
 * CairnError that names what was being read but never echoes the input.
 * forge reads RSA certificates only; anything else is reported the same way.
 */
export function parseCertificate(certPem: string, what = "certificate"): forge.pki.Certificate {
  try {
    return forge.pki.certificateFromPem(certPem);
  } catch (cause) {
    throw new CairnError("INVALID_ARGUMENT", `${what} is not a valid PEM-encoded RSA X.509 certificate`, { cause });
  }
}

/** Parses a PEM RSA private key (PKCS#1 or PKCS#8). The message never contains key material. */
export function parsePrivateKey(keyPem: string, what = "private key"): forge.pki.rsa.PrivateKey {
  try {
    return forge.pki.privateKeyFromPem(keyPem);
  } catch {
    // The cause is dropped on purpose: forge errors can carry parsed key fields.
    throw new CairnError("INVALID_ARGUMENT", `${what} is not a valid PEM-encoded RSA private key`);
  }
}

/** The DER bytes of the first CERTIFICATE block in a PEM string. */
export function certificateDer(certPem: string): Buffer {
  let blocks: ReturnType<typeof forge.pem.decode>;
  try {
    blocks = forge.pem.decode(certPem);
  } catch (cause) {
    throw new CairnError("INVALID_ARGUMENT", "certificate is not valid PEM", { cause });
  }
  const block = blocks.find((b) => b.type === "CERTIFICATE");
  if (block === undefined) throw new CairnError("INVALID_ARGUMENT", "no CERTIFICATE block in PEM input");
  return Buffer.from(block.body, "binary");
}
