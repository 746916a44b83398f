import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { generateCa } from "./generate-ca.js";
import { issueClientCert } from "./issue-client-cert.js";
import { issueServerCert } from "./issue-server-cert.js";
import type { KeyPairPem } from "./key-pair.js";

// End-to-end proof that the certificates work where they matter: a real mTLS
// handshake on loopback with node:tls, the stack grpc-js runs on.

interface Outcome {
  /** The client got the server's reply: both sides verified each other. */
  ok: boolean;
  /** The server reached secureConnection (it accepted the client cert). */
  serverAccepted: boolean;
  /**
   * In diagnose mode only: node's verdict on the client cert. A rejecting
   * server just drops the socket (the client sees a hang-up), so the reason
   * is read from a second server that records it instead of rejecting.
   */
  authorizationError?: string;
  /** Why the client gave up, if it did. */
  clientError?: string;
  /** Client cert organizations as the server saw them. */
  peerO?: string | string[];
}

const servers: tls.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function handshake(opts: {
  server: KeyPairPem;
  serverTrusts: string;
  client: KeyPairPem;
  clientTrusts: string;
  host?: string;
  diagnose?: boolean;
}): Promise<Outcome> {
  const out: Outcome = { ok: false, serverAccepted: false };
  const diagnose = opts.diagnose ?? false;
  let serverDone!: () => void;
  const serverSettled = new Promise<void>((resolve) => (serverDone = resolve));
  const server = tls.createServer(
    { cert: opts.server.certPem, key: opts.server.keyPem, ca: [opts.serverTrusts], requestCert: true, rejectUnauthorized: !diagnose },
    (socket) => {
      if (diagnose) {
        if (socket.authorizationError) out.authorizationError = String(socket.authorizationError);
        socket.destroy();
      } else {
        out.serverAccepted = true;
        out.peerO = socket.getPeerCertificate().subject.O;
        socket.end("pong");
      }
      serverDone();
    },
  );
  server.on("tlsClientError", () => serverDone());
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  const reply = await new Promise<string>((resolve) => {
    let data = "";
    const host = opts.host ?? "127.0.0.1";
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...(host === "127.0.0.1" ? {} : { servername: host }),
      ca: [opts.clientTrusts],
      cert: opts.client.certPem,
      key: opts.client.keyPem,
    });
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (data += d));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      out.clientError ??= err.code ?? err.message;
      serverDone(); // a client-side refusal never reaches the server's callbacks
    });
    socket.on("close", () => resolve(data));
  });
  await serverSettled;
  out.ok = reply === "pong";
  return out;
}

describe("mTLS handshake with Cairn certificates", () => {
  const ca = generateCa({ commonName: "cairn-ca" });
  const foreignCa = generateCa({ commonName: "cairn-ca" }); // same name, different key
  const server = issueServerCert(ca, { commonName: "node-1", dnsNames: ["node-1.local"], ipAddresses: ["127.0.0.1", "::1"] });
  const admin = issueClientCert(ca, { commonName: "admin", roles: ["os:admin", "os:reader"] });

  it("succeeds with certs from the same CA, and the server sees the roles", async () => {
    const r = await handshake({ server, serverTrusts: ca.certPem, client: admin, clientTrusts: ca.certPem });
    expect(r).toMatchObject({ ok: true, serverAccepted: true, peerO: ["os:admin", "os:reader"] });
  });

  it("checks the server's DNS SAN when connecting by name", async () => {
    const r = await handshake({ server, serverTrusts: ca.certPem, client: admin, clientTrusts: ca.certPem, host: "node-1.local" });
    expect(r.ok).toBe(true);
    const wrong = await handshake({ server, serverTrusts: ca.certPem, client: admin, clientTrusts: ca.certPem, host: "node-2.local" });
    expect(wrong).toMatchObject({ ok: false, serverAccepted: false, clientError: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("fails when the client cert comes from a foreign CA", async () => {
    const stranger = issueClientCert(foreignCa, { commonName: "admin", roles: ["os:admin"] });
    const opts = { server, serverTrusts: ca.certPem, client: stranger, clientTrusts: ca.certPem };
    expect(await handshake(opts)).toMatchObject({ ok: false, serverAccepted: false });
    // The authority key id points at a key the server does not trust, so OpenSSL finds no issuer.
    expect((await handshake({ ...opts, diagnose: true })).authorizationError).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE)$/);
  });

  it("fails when the client cert has expired", async () => {
    const day = 86_400_000;
    const expired = issueClientCert(ca, {
      commonName: "admin",
      roles: ["os:admin"],
      notBefore: new Date(Date.now() - 2 * day),
      notAfter: new Date(Date.now() - day),
    });
    const opts = { server, serverTrusts: ca.certPem, client: expired, clientTrusts: ca.certPem };
    expect(await handshake(opts)).toMatchObject({ ok: false, serverAccepted: false });
    expect((await handshake({ ...opts, diagnose: true })).authorizationError).toBe("CERT_HAS_EXPIRED");
  });

  it("fails when the client does not trust the server's CA", async () => {
    const r = await handshake({ server, serverTrusts: ca.certPem, client: admin, clientTrusts: foreignCa.certPem });
    expect(r).toMatchObject({ ok: false, serverAccepted: false });
    // OpenSSL names this SELF_SIGNED_CERT_IN_CHAIN or CERT_SIGNATURE_FAILURE depending on version.
    expect(r.clientError).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
  });
});
