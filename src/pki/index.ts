// The PKI facade: pure functions over PEM strings (no file system), backed by
// node-forge for X.509 and node:crypto for key generation and hashing.
export type { KeyPairPem } from "./key-pair.js";
export { generateCa } from "./generate-ca.js";
export type { GenerateCaOptions } from "./generate-ca.js";
export { issueClientCert } from "./issue-client-cert.js";
export type { IssueClientCertOptions } from "./issue-client-cert.js";
export { issueServerCert } from "./issue-server-cert.js";
export type { IssueServerCertOptions } from "./issue-server-cert.js";
export { selfSignedServerCert } from "./self-signed-server-cert.js";
export type { SelfSignedServerCertOptions } from "./self-signed-server-cert.js";
export { certFingerprintSha256 } from "./fingerprint.js";
export { inspectCert } from "./inspect-cert.js";
export type { CertInfo } from "./inspect-cert.js";
export { checkCaKeyPair } from "./ca-key-pair.js";
