import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSignedServerCert } from "../pki/index.js";
import { maintenanceCredentials } from "./credentials.js";

// The server's TLS options as grpc-js hands them to http2.createSecureServer
// (constructor options, then secure context options), on node:tls: which
// TLS 1.3 suite a client ends up with.

let server: tls.Server;
let port: number;

beforeAll(async () => {
  const id = selfSignedServerCert({ commonName: "cipher-test", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const creds = maintenanceCredentials(id.certPem, id.keyPem);
  server = tls.createServer({ ...creds._getConstructorOptions(), ...creds._getSecureContextOptions() }, (s) => s.end());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

async function negotiated(opts: tls.ConnectionOptions = {}): Promise<{ suite: string; version: string | null }> {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...opts });
  try {
    await once(socket, "secureConnect");
    return { suite: socket.getCipher().name, version: socket.getProtocol() };
  } finally {
    socket.destroy();
  }
}

describe("server TLS suites", () => {
  it("picks ChaCha20-Poly1305 over the AES-GCM a default Node client prefers", async () => {
    expect(await negotiated()).toEqual({ suite: "TLS_CHACHA20_POLY1305_SHA256", version: "TLSv1.3" });
  });

  it("still serves a client that offers only AES-GCM", async () => {
    expect((await negotiated({ ciphers: "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256" })).suite).toBe("TLS_AES_256_GCM_SHA384");
  });
});
