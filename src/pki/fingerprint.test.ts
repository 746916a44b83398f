import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { certFingerprintSha256 } from "./fingerprint.js";
import { generateCa } from "./generate-ca.js";

describe("certFingerprintSha256", () => {
  it("matches node:crypto's fingerprint256 (the openssl format)", () => {
    const { certPem } = generateCa({ commonName: "fp" });
    const fp = certFingerprintSha256(certPem);
    expect(fp).toBe(new X509Certificate(certPem).fingerprint256);
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it("ignores text around the PEM block", () => {
    const { certPem } = generateCa({ commonName: "fp" });
    expect(certFingerprintSha256(`subject=CN=fp\n${certPem}\n`)).toBe(new X509Certificate(certPem).fingerprint256);
  });

  it("rejects input without a certificate", () => {
    expect(() => certFingerprintSha256("hello")).toThrow(/not valid PEM|no CERTIFICATE/);
    const { keyPem } = generateCa({ commonName: "fp" });
    expect(() => certFingerprintSha256(keyPem)).toThrow(/^no CERTIFICATE block in PEM input$/);
  });
});
