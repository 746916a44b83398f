import { createHash, X509Certificate } from "node:crypto";
import { credentials, type ChannelCredentials } from "@grpc/grpc-js";
import { CairnError } from "../../errors/index.js";

/** mTLS to a configured node: the OS CA verifies the node, the client cert proves who we are. */
export function mtlsChannelCredentials(c: { caPem: string; certPem: string; keyPem: string }): ChannelCredentials {
  return credentials.createSsl(Buffer.from(c.caPem), Buffer.from(c.keyPem), Buffer.from(c.certPem));
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, "").toUpperCase();
}

/**
 * TLS to a node in maintenance mode. Its certificate is self-signed, so
 * there is no CA to check against: when a fingerprint is given (printed on
 * the node's console), the certificate must match it; otherwise the channel
 * is encrypted but unauthenticated, which is what `--insecure` means.
 */
export function maintenanceChannelCredentials(fingerprint?: string): ChannelCredentials {
  return credentials.createSsl(null, null, null, {
    rejectUnauthorized: false,
    checkServerIdentity: (_host, cert) => {
      if (!fingerprint) return undefined;
      const got = createHash("sha256").update(cert.raw).digest("hex").toUpperCase();
      if (got !== normaliseFingerprint(fingerprint)) {
        return new CairnError("UNAUTHENTICATED", `node certificate fingerprint ${new X509Certificate(cert.raw).fingerprint256} does not match --cert-fingerprint`);
      }
      return undefined;
    },
  });
}
