import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateCa } from "./generate-ca.js";
import { selfSignedServerCert } from "./self-signed-server-cert.js";

describe("selfSignedServerCert", () => {
  const cert = selfSignedServerCert({ commonName: "maintenance", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const x = new X509Certificate(cert.certPem);

  it("is signed by its own key, is not a CA, and serves its SANs", () => {
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.issuer).toBe(x.subject);
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(x.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x.checkHost("localhost")).toBe("localhost");
  });

  it("does not chain to any cluster CA", () => {
    const ca = generateCa({ commonName: "maintenance" });
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(false);
  });
});
