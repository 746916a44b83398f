import { X509Certificate, createPrivateKey } from "node:crypto";
import forge from "node-forge";
import { describe, expect, it } from "vitest";
import { generateCa } from "./generate-ca.js";

const DAY = 24 * 60 * 60 * 1000;

describe("generateCa", () => {
  const ca = generateCa({ commonName: "cairn-test" });
  const x = new X509Certificate(ca.certPem);

  it("is a self-signed CA that node:crypto accepts", () => {
    expect(x.ca).toBe(true);
    expect(x.subject).toBe("CN=cairn-test");
    expect(x.issuer).toBe("CN=cairn-test");
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });

  it("uses an RSA 2048 key", () => {
    expect(x.publicKey.asymmetricKeyType).toBe("rsa");
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it("may only sign certs and CRLs, and carries a subject key identifier", () => {
    const cert = forge.pki.certificateFromPem(ca.certPem);
    const ku = cert.getExtension("keyUsage") as Record<string, unknown>;
    expect(ku).toMatchObject({ keyCertSign: true, cRLSign: true, critical: true });
    expect(ku.digitalSignature).toBe(false);
    expect(cert.getExtension("basicConstraints")).toMatchObject({ cA: true, critical: true });
    expect(cert.getExtension("subjectKeyIdentifier")).toBeTruthy();
  });

  it("is valid for 3650 days by default, or as asked", () => {
    const life = Date.parse(x.validTo) - Date.now();
    expect(Math.round(life / DAY)).toBe(3650);
    const short = new X509Certificate(generateCa({ commonName: "short", validityDays: 2 }).certPem);
    expect(Math.round((Date.parse(short.validTo) - Date.now()) / DAY)).toBe(2);
  });

  it("draws a fresh key and serial every time", () => {
    const other = generateCa({ commonName: "cairn-test" });
    expect(other.keyPem).not.toBe(ca.keyPem);
    expect(new X509Certificate(other.certPem).serialNumber).not.toBe(x.serialNumber);
  });

  it("rejects a bad commonName or lifetime", () => {
    expect(() => generateCa({ commonName: "" })).toThrow(/commonName/);
    expect(() => generateCa({ commonName: "x", validityDays: 0 })).toThrow(/validityDays/);
  });
});
