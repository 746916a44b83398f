import { ecSelfSignedServerCert } from "./ec-self-signed.js";
import type { KeyPairPem } from "./key-pair.js";
import { resolveValidity } from "./validity.js";

/** Options for the maintenance-mode serving certificate. */
export interface SelfSignedServerCertOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/** Lifetime of a maintenance cert; it is kept on STATE and reused while valid. */
const MAINTENANCE_VALIDITY_DAYS = 365;

/**
 * Creates a self-signed serving cert for maintenance mode, when the node has
 * no config and therefore no CA yet. Clients cannot verify it against a CA;
 * they pin its SHA-256 fingerprint (shown on the console) or connect
 * insecurely to apply the first config. ECDSA P-256: no CA signs it, so it
 * need not be RSA like the certs forge builds, and the key takes
 * milliseconds to make on a first boot under emulation instead of seconds.
 */
export function selfSignedServerCert(opts: SelfSignedServerCertOptions): KeyPairPem {
  return ecSelfSignedServerCert({ ...opts, validity: resolveValidity({}, MAINTENANCE_VALIDITY_DAYS) });
}
