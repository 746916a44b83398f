import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateCa } from "./generate-ca.js";
import { inspectCert } from "./inspect-cert.js";
import { issueClientCert } from "./issue-client-cert.js";
import { issueServerCert } from "./issue-server-cert.js";

describe("inspectCert", () => {
  const ca = generateCa({ commonName: "cairn-ca" });

  it("reads a CA", () => {
    const info = inspectCert(ca.certPem);
    expect(info).toMatchObject({ commonName: "cairn-ca", organizations: [], isCa: true, dnsNames: [], ipAddresses: [] });
    expect(info.fingerprintSha256).toBe(new X509Certificate(ca.certPem).fingerprint256);
  });

  it("reads a client cert's roles and validity", () => {
    const notBefore = new Date("2030-01-01T00:00:00Z");
    const notAfter = new Date("2031-01-01T00:00:00Z");
    const c = issueClientCert(ca, { commonName: "bob", roles: ["os:operator"], notBefore, notAfter });
    expect(inspectCert(c.certPem)).toMatchObject({ commonName: "bob", organizations: ["os:operator"], isCa: false, notBefore, notAfter });
  });

  it("reads a server cert's SANs", () => {
    const s = issueServerCert(ca, { commonName: "n", dnsNames: ["n.local"], ipAddresses: ["192.168.1.5", "2001:db8::5"] });
    expect(inspectCert(s.certPem)).toMatchObject({ dnsNames: ["n.local"], ipAddresses: ["192.168.1.5", "2001:db8::5"] });
  });

  it("rejects a key passed where a cert belongs, without echoing it", () => {
    expect(() => inspectCert(ca.keyPem)).toThrow(/^certificate is not a valid PEM-encoded RSA X.509 certificate$/);
  });
});
