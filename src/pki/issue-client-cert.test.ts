import { X509Certificate } from "node:crypto";
import forge from "node-forge";
import { describe, expect, it } from "vitest";
import { isCairnError } from "../errors/index.js";
import { generateCa } from "./generate-ca.js";
import { issueClientCert } from "./issue-client-cert.js";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("issueClientCert", () => {
  const ca = generateCa({ commonName: "cairn-ca" });
  const foreign = generateCa({ commonName: "cairn-ca" }); // same name, different key
  const client = issueClientCert(ca, { commonName: "alice", roles: ["os:admin", "os:reader"] });
  const x = new X509Certificate(client.certPem);

  it("verifies against its CA and not against another CA with the same name", () => {
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(x.verify(new X509Certificate(foreign.certPem).publicKey)).toBe(false);
  });

  it("carries each role as its own O entry", () => {
    expect(x.subject.split("\n")).toEqual(["CN=alice", "O=os:admin", "O=os:reader"]);
    expect(x.issuer).toBe("CN=cairn-ca");
    expect(x.ca).toBe(false);
  });

  it("is for client auth only, with signing key usages and an authority key id", () => {
    expect(x.keyUsage).toEqual([CLIENT_AUTH]);
    const cert = forge.pki.certificateFromPem(client.certPem);
    expect(cert.getExtension("keyUsage")).toMatchObject({ digitalSignature: true, keyEncipherment: true, keyCertSign: false });
    const caSki = (forge.pki.certificateFromPem(ca.certPem).getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier: string })
      .subjectKeyIdentifier;
    const aki = cert.getExtension("authorityKeyIdentifier") as { value: string };
    // AKI DER: SEQUENCE { [0] keyIdentifier } — the identifier is the tail.
    expect(forge.util.bytesToHex(aki.value).endsWith(caSki)).toBe(true);
  });

  it("is valid for 365 days by default", () => {
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });

  it("honours explicit bounds, so tests can mint an expired cert", () => {
    const notBefore = new Date(Date.now() - 2 * 86_400_000);
    const notAfter = new Date(Date.now() - 86_400_000);
    const expired = new X509Certificate(issueClientCert(ca, { commonName: "old", roles: [], notBefore, notAfter }).certPem);
    expect(Date.parse(expired.validTo)).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    expect(Date.parse(expired.validTo)).toBeLessThan(Date.now());
  });

  it("refuses a CA key that does not belong to the CA cert, without echoing key material", () => {
    const e = thrown(() => issueClientCert({ certPem: ca.certPem, keyPem: foreign.keyPem }, { commonName: "a", roles: [] }));
    expect(isCairnError(e) && e.code).toBe("INVALID_ARGUMENT");
    expect((e as Error).message).toMatch(/does not belong/);
    expect((e as Error).message).not.toContain("PRIVATE");
  });

  it("refuses to sign with a cert that is not a CA", () => {
    const e = thrown(() => issueClientCert(client, { commonName: "a", roles: [] }));
    expect((e as Error).message).toMatch(/not a CA/);
  });

  it("refuses garbage PEM with a CairnError", () => {
    const e = thrown(() => issueClientCert({ certPem: "nope", keyPem: ca.keyPem }, { commonName: "a", roles: [] }));
    expect(isCairnError(e) && e.code).toBe("INVALID_ARGUMENT");
  });
});
