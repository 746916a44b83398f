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

  it("is an ECDSA P-256 certificate with the requested names and a year of validity", () => {
    expect(x.publicKey.asymmetricKeyType).toBe("ec");
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(x.subject).toBe("CN=maintenance");
    expect(x.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1");
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });

  it("serves TLS with its key", async () => {
    const { createServer, connect } = await import("node:tls");
    const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ port, host: "127.0.0.1", ca: [cert.certPem], servername: "localhost" }, () => undefined);
      let data = "";
      s.on("data", (d: Buffer) => (data += d.toString()));
      s.on("end", () => resolve(data));
      s.on("error", reject);
    });
    server.close();
    expect(got).toBe("ok");
  });

  it("does not chain to any cluster CA", () => {
    const ca = generateCa({ commonName: "maintenance" });
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(false);
  });
});
