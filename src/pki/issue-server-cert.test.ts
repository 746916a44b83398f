import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateCa } from "./generate-ca.js";
import { issueServerCert } from "./issue-server-cert.js";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

describe("issueServerCert", () => {
  const ca = generateCa({ commonName: "cairn-ca" });
  const server = issueServerCert(ca, {
    commonName: "node-1",
    dnsNames: ["node-1", "node-1.example.com"],
    ipAddresses: ["10.5.0.2", "::1", "fd00::10:2"],
  });
  const x = new X509Certificate(server.certPem);

  it("verifies against its CA and is for server auth", () => {
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.keyUsage).toEqual([SERVER_AUTH]);
    expect(x.ca).toBe(false);
  });

  it("lists DNS and IPv4/IPv6 SANs that node's hostname check accepts", () => {
    expect(x.checkHost("node-1.example.com")).toBe("node-1.example.com");
    expect(x.checkIP("10.5.0.2")).toBe("10.5.0.2");
    expect(x.checkIP("::1")).toBe("::1");
    expect(x.checkIP("fd00:0:0:0:0:0:10:2")).toBe("fd00:0:0:0:0:0:10:2");
    expect(x.checkIP("10.5.0.3")).toBeUndefined();
    expect(x.checkHost("other.example.com")).toBeUndefined();
  });

  it("rejects names that are not addresses or DNS names", () => {
    const base = { commonName: "n", dnsNames: [] as string[], ipAddresses: [] as string[] };
    expect(() => issueServerCert(ca, { ...base, ipAddresses: ["10.0.0.256"] })).toThrow(/not an IP address/);
    expect(() => issueServerCert(ca, { ...base, ipAddresses: ["fe80::1%eth0"] })).toThrow(/not an IP address/);
    expect(() => issueServerCert(ca, { ...base, dnsNames: ["bad name"] })).toThrow(/not a DNS name/);
  });
});
