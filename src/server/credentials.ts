import { ServerCredentials } from "@grpc/grpc-js";

/**
 * TLS 1.3 suites in the server's order of preference (honorCipherOrder):
 * ChaCha20-Poly1305 first. On metal nodes without AES-NI, and in QEMU/TCG
 * guests where AES-NI and PCLMULQDQ are emulated, it decrypts faster than
 * AES-GCM (Node 24 under TCG: 54 vs 35 MB/s), which is most of what an
 * Upgrade upload costs the node besides hashing (docs/upgrades.md).
 */
export const TLS13_SUITES = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";

/**
 * Server credentials that pin TLS 1.3. grpc-js's createSsl offers no way to
 * set the minimum protocol version, so this subclass hands grpc-js the same
 * two option bags it would build itself, plus minVersion.
 */
class Tls13ServerCredentials extends ServerCredentials {
  constructor(opts: { caPem: string | null; certPem: string; keyPem: string; requireClientCert: boolean }) {
    super(
      { requestCert: opts.requireClientCert, rejectUnauthorized: opts.requireClientCert, honorCipherOrder: true },
      {
        ...(opts.caPem ? { ca: opts.caPem } : {}),
        cert: opts.certPem,
        key: opts.keyPem,
        minVersion: "TLSv1.3",
        ciphers: TLS13_SUITES,
      },
    );
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/** Maintenance mode: server-authenticated TLS, no client certificate asked. */
export function maintenanceCredentials(certPem: string, keyPem: string): ServerCredentials {
  return new Tls13ServerCredentials({ caPem: null, certPem, keyPem, requireClientCert: false });
}

/** Configured mode: mTLS, clients must present a certificate signed by the OS CA. */
export function mtlsCredentials(caPem: string, certPem: string, keyPem: string): ServerCredentials {
  return new Tls13ServerCredentials({ caPem, certPem, keyPem, requireClientCert: true });
}
