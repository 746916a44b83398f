import { createHash } from "node:crypto";
import { CairnError } from "../../errors/index.js";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Only sha256 digests are accepted (what every registry and containerd use). */
export function assertDigest(digest: string, where: string): void {
  if (!DIGEST_RE.test(digest)) throw new CairnError("INVALID_ARGUMENT", `${where}: not a sha256 digest: ${digest}`);
}

/** Throws when the bytes received are not the bytes named (a corrupt or tampered blob). */
export function verifyDigest(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new CairnError("FAILED_PRECONDITION", `${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/**
 * The chain ID of a layer stack (image-spec config.md): the snapshot name an
 * unpacked stack of layers has. chain(L0) = diff(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)).
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? id : sha256Digest(`${prev} ${id}`));
  }
  return out;
}
