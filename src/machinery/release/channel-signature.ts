import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { CairnError } from "../../errors/index.js";
import { ChannelEnvelopeSchema, ChannelPayloadSchema, parseStrict, type ChannelPayload } from "./channel-metadata.js";

/** Stable short id of a public key: first 16 hex digits of sha256(SPKI DER), as bundles name it. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/**
 * Signs a channel payload with an ed25519 release key and returns the file
 * text (the envelope). The payload is validated first so a publisher cannot
 * sign a document nodes would refuse.
 */
export function signChannel(payload: ChannelPayload, privateKey: KeyObject): string {
  if (privateKey.asymmetricKeyType !== "ed25519") throw new CairnError("INVALID_ARGUMENT", `release key must be ed25519, got ${privateKey.asymmetricKeyType ?? "unknown"}`);
  const bytes = Buffer.from(JSON.stringify(payload, null, 2));
  parseStrict(ChannelPayloadSchema, bytes.toString("utf8"), "channel metadata");
  const sig = sign(null, bytes, privateKey).toString("base64");
  return `${JSON.stringify({ format: 1, payload: bytes.toString("base64"), signatures: [{ keyId: keyIdOf(privateKey), sig }] }, null, 2)}\n`;
}

/** A channel document whose signature a trusted key made. */
export interface VerifiedChannel {
  readonly payload: ChannelPayload;
  /** Id of the trusted key that signed it. */
  readonly keyId: string;
}

/**
 * Verifies channel file text against trusted ed25519 public keys (PEM):
 * envelope shape, a signature by one of the keys over the payload bytes,
 * then the payload's schema (only signed bytes are ever interpreted).
 * INVALID_ARGUMENT for malformed text, PERMISSION_DENIED when no trusted
 * key signed it.
 */
export function verifyChannel(text: string, trustedPublicKeysPem: readonly string[]): VerifiedChannel {
  const env = parseStrict(ChannelEnvelopeSchema, text, "channel metadata envelope");
  const bytes = Buffer.from(env.payload, "base64");
  const keys = trustedPublicKeysPem.map((pem) => createPublicKey(pem));
  for (const s of env.signatures) {
    const sig = Buffer.from(s.sig, "base64");
    for (const key of keys) {
      if (key.asymmetricKeyType === "ed25519" && verify(null, bytes, key, sig)) {
        return { payload: parseStrict(ChannelPayloadSchema, bytes.toString("utf8"), "channel metadata"), keyId: keyIdOf(key) };
      }
    }
  }
  const ids = env.signatures.map((s) => s.keyId).join(", ");
  throw new CairnError("PERMISSION_DENIED", `channel metadata is not signed by a trusted release key (signed by ${ids}; ${keys.length} trusted)`);
}
