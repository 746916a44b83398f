import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** An ed25519 release signing key and the public half the image trusts. */
export interface ReleaseKey {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  /** First 16 hex digits of sha256(SPKI DER): names the key in manifests and /etc/cairn/release-keys. */
  readonly keyId: string;
}

/** Stable short id of a public key (PEM), independent of PEM whitespace. */
export function releaseKeyId(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/**
 * Loads the release key from `dir` (release.key.pem + release.pub.pem),
 * creating a development pair there when none exists. hack/.keys/ is
 * git-ignored: a dev key must never sign a real release; CI and releases
 * point `dir` at their own key material instead.
 */
export function ensureReleaseKey(dir: string): ReleaseKey {
  const privPath = join(dir, "release.key.pem");
  const pubPath = join(dir, "release.pub.pem");
  if (!existsSync(privPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(privPath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    chmodSync(privPath, 0o600);
    writeFileSync(pubPath, publicKey.export({ type: "spki", format: "pem" }));
  }
  const privateKey = createPrivateKey(readFileSync(privPath));
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return { privateKey, publicKeyPem, keyId: releaseKeyId(publicKeyPem) };
}
