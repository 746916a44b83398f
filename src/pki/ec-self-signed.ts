import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { CairnError } from "../errors/index.js";
import { bitString, booleanTrue, explicit, objectId, octetString, sequence, set, time, tlv, unsignedInteger, utf8String } from "./der.js";
import type { KeyPairPem } from "./key-pair.js";
import { randomSerialNumber } from "./serial-number.js";
import { subjectAltNames } from "./subject-alt-names.js";

/** What a self-signed ECDSA serving certificate says. */
export interface EcSelfSignedSpec {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly validity: { readonly notBefore: Date; readonly notAfter: Date };
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const MAX_NAME = 64;

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectId(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function generalNames(dnsNames: readonly string[], ipAddresses: readonly string[]): Buffer {
  // subjectAltNames validates both lists; IP values come back as raw bytes in a latin1 string.
  return sequence(
    ...subjectAltNames(dnsNames, ipAddresses).map((n) =>
      n.type === 2 ? tlv(0x82, Buffer.from(n.value, "ascii")) : tlv(0x87, Buffer.from(n.value, "latin1")),
    ),
  );
}

/**
 * A fresh ECDSA P-256 key and a self-signed v3 serving certificate for it
 * (SHA-256, not a CA, digitalSignature, serverAuth, the given SANs). P-256
 * key generation takes milliseconds even under TCG, where RSA 2048 took ~5 s
 * of the maintenance-mode boot (docs/boot-performance.md).
 */
export function ecSelfSignedServerCert(spec: EcSelfSignedSpec): KeyPairPem {
  if (spec.commonName.length === 0 || spec.commonName.length > MAX_NAME) {
    throw new CairnError("INVALID_ARGUMENT", `commonName must be 1 to ${MAX_NAME} characters, got ${spec.commonName.length}`);
  }
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const name = sequence(set(sequence(objectId("2.5.4.3"), utf8String(spec.commonName))));
  const algorithm = sequence(objectId(ECDSA_WITH_SHA256));
  // subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1);
  // for P-256 the uncompressed point is the SPKI's last 65 bytes.
  const ski = createHash("sha1").update(spki.subarray(spki.length - 65)).digest();
  const extensions = [
    extension("2.5.29.19", true, sequence()),
    extension("2.5.29.15", true, bitString(Buffer.from([0x80]), 7)),
    extension("2.5.29.37", false, sequence(objectId("1.3.6.1.5.5.7.3.1"))),
    ...(spec.dnsNames.length + spec.ipAddresses.length > 0 ? [extension("2.5.29.17", false, generalNames(spec.dnsNames, spec.ipAddresses))] : []),
    extension("2.5.29.14", false, octetString(ski)),
  ];
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(Buffer.from(randomSerialNumber(), "hex")),
    algorithm,
    name,
    sequence(time(spec.validity.notBefore), time(spec.validity.notAfter)),
    name,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return { certPem: pem("CERTIFICATE", der), keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").match(/.{1,64}/g)?.join("\n") ?? "";
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
