import { createHash, X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ChannelCredentials, credentials, type CallCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { CairnError } from "../../errors/index.js";

/** mTLS to a configured node: the OS CA verifies the node, the client cert proves who we are. */
export function mtlsChannelCredentials(c: { caPem: string; certPem: string; keyPem: string }): ChannelCredentials {
  return credentials.createSsl(Buffer.from(c.caPem), Buffer.from(c.keyPem), Buffer.from(c.certPem));
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, "").toUpperCase();
}

type SecureConnector = ReturnType<ChannelCredentials["_createSecureConnector"]>;

/**
 * Unauthenticated TLS whose every connection is checked against a pinned
 * SHA-256 certificate fingerprint. The check cannot live in
 * checkServerIdentity: Node skips that callback when chain verification
 * already failed (always, for a self-signed cert), and with
 * rejectUnauthorized false nothing would act on its answer anyway. So the
 * pin is enforced on the connected socket, before grpc-js sends a byte.
 */
class PinnedChannelCredentials extends ChannelCredentials {
  private readonly inner = credentials.createSsl(null, null, null, { rejectUnauthorized: false });

  constructor(private readonly fingerprint: string) {
    super();
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(target: Parameters<ChannelCredentials["_createSecureConnector"]>[0], options: ChannelOptions, callCredentials?: CallCredentials): SecureConnector {
    const connector = this.inner._createSecureConnector(target, options, callCredentials);
    const want = this.fingerprint;
    return {
      async connect(socket: Socket) {
        const res = await connector.connect(socket);
        const raw = (res.socket as TLSSocket).getPeerCertificate?.().raw;
        const got = raw ? createHash("sha256").update(raw).digest("hex").toUpperCase() : "";
        if (got !== want) {
          res.socket.destroy();
          const shown = raw ? new X509Certificate(raw).fingerprint256 : "(no certificate)";
          throw new CairnError("UNAUTHENTICATED", `node certificate fingerprint ${shown} does not match --cert-fingerprint`);
        }
        return res;
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
}

/**
 * TLS to a node in maintenance mode. Its certificate is self-signed, so
 * there is no CA to check against: when a fingerprint is given (printed on
 * the node's console), the certificate must match it; otherwise the channel
 * is encrypted but unauthenticated, which is what `--insecure` means.
 */
export function maintenanceChannelCredentials(fingerprint?: string): ChannelCredentials {
  if (fingerprint) return new PinnedChannelCredentials(normaliseFingerprint(fingerprint));
  return credentials.createSsl(null, null, null, { rejectUnauthorized: false });
}
