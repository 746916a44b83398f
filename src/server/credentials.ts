import { ServerCredentials } from "@grpc/grpc-js";

/**
 * Server credentials that pin TLS 1.3. grpc-js's createSsl offers no way to
 * set the minimum protocol version, so this subclass hands grpc-js the same
 * two option bags it would build itself, plus minVersion.
 */
class Tls13ServerCredentials extends ServerCredentials {
  constructor(opts: { caPem: string | null; certPem: string; keyPem: string; requireClientCert: boolean }) {
    super(
      { requestCert: opts.requireClientCert, rejectUnauthorized: opts.requireClientCert },
      {
        ...(opts.caPem ? { ca: opts.caPem } : {}),
        cert: opts.certPem,
        key: opts.keyPem,
        minVersion: "TLSv1.3",
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
