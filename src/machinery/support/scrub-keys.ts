/** What a private key block is replaced with in a support bundle. */
export const SCRUBBED = "[private key removed by nodectl support]";

// Any PEM private key (PKCS#8, RSA, EC, OpenSSH, encrypted), also one cut off before its END line.
const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

/**
 * Removes private key material from text bound for a support bundle. The
 * node already redacts its config and logs; this is the second lock, so a
 * key that slipped into a log line or a file still never leaves in a bundle
 * that is attached to a public bug report.
 */
export function scrubPrivateKeys(text: string): string {
  return text.replace(PRIVATE_KEY_BLOCK, SCRUBBED);
}
