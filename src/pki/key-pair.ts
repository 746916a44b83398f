import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

/**
 * A certificate and its private key, both PEM. This is the only shape the
 * rest of Cairn sees: PEM strings travel through config files and TLS
 * options unchanged, so nothing outside src/pki touches node-forge objects.
 */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** A fresh RSA key, as forge objects for signing and as PEM for the caller. */
export interface RsaKey {
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly privateKey: forge.pki.rsa.PrivateKey;
  /** PKCS#8 PEM ("PRIVATE KEY"), accepted by node:tls and forge alike. */
  readonly privateKeyPem: string;
}

/**
 * Generates an RSA 2048 key with node:crypto (native, milliseconds) and hands
 * it to forge via PEM. forge's own generator falls back to pure JavaScript
 * (seconds per key) whenever its Node detection fails, so we never call it.
 * RSA because forge's X.509 code signs and parses RSA keys only.
 */
export function generateRsaKey(): RsaKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privateKeyPem: privateKey,
  };
}
