import { createHash, type Hash } from "node:crypto";
import { CairnError } from "../../errors/index.js";
import { BUNDLE_HEADER_BYTES, MAX_MANIFEST_BYTES, trustedSigner, unsigned, type LocatedPart, type VerifiedBundle } from "./bundle-format.js";
import { parseManifest, type BundleManifest } from "./bundle-manifest.js";

function bad(message: string): never {
  throw new CairnError("INVALID_ARGUMENT", message);
}

/**
 * Verifies a bundle while its bytes stream in (an upload or a download), in
 * one pass: the ed25519 signature as soon as the manifest and signature have
 * arrived (PERMISSION_DENIED for an untrusted one), then each part's sha256
 * as its last byte passes, and the total size. Every error is thrown from
 * `update` the moment it is known, so a bad bundle is refused long before
 * its end; `finish` refuses a truncated one. `onManifest` runs once the
 * signed manifest is trusted (the caller refuses a wrong version or arch there).
 */
export class BundleStreamVerifier {
  #head = Buffer.alloc(0);
  #manifest: BundleManifest | undefined;
  #keyId = "";
  #parts: LocatedPart[] = [];
  #total = 0;
  #received = 0;
  #part = 0;
  #partDone = 0;
  #hash: Hash | undefined;

  constructor(
    private readonly trustedKeys: readonly string[],
    private readonly onManifest: (m: BundleManifest) => void = () => undefined,
  ) {}

  /** The trusted manifest, once it has arrived. */
  get manifest(): BundleManifest | undefined {
    return this.#manifest;
  }

  /** Bytes the whole bundle has, known once the manifest arrived. */
  get totalBytes(): number | undefined {
    return this.#manifest ? this.#total : undefined;
  }

  update(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.#manifest) {
      this.#head = Buffer.concat([this.#head, buf]);
      const used = this.#tryHeader();
      if (used === undefined) return;
      buf = this.#head.subarray(used);
      this.#received = used;
      this.#head = Buffer.alloc(0);
    }
    this.#received += buf.length;
    if (this.#received > this.#total) bad(`bundle is longer than the ${this.#total} bytes its manifest describes`);
    while (buf.length > 0) {
      const p = this.#parts[this.#part]!;
      const take = Math.min(buf.length, p.size - this.#partDone);
      (this.#hash ??= createHash("sha256")).update(buf.subarray(0, take));
      this.#partDone += take;
      buf = buf.subarray(take);
      if (this.#partDone === p.size) this.#endPart();
    }
  }

  /** Ends the stream: the verified bundle, or INVALID_ARGUMENT for a truncated one. */
  finish(): VerifiedBundle {
    if (!this.#manifest) bad("bundle truncated in its header");
    if (this.#received < this.#total) bad(`bundle truncated: ${this.#received} of ${this.#total} bytes`);
    return { manifest: this.#manifest, parts: this.#parts, keyId: this.#keyId };
  }

  /** Parses header, manifest and signature once they are all buffered; returns the bytes they took. */
  #tryHeader(): number | undefined {
    const h = this.#head;
    if (h.length < 8) return undefined;
    if (!h.subarray(0, 8).equals(Buffer.from("CAIRNBD1", "ascii"))) bad("not a Cairn bundle (bad magic)");
    if (h.length < BUNDLE_HEADER_BYTES) return undefined;
    const m = h.readUInt32BE(8);
    const s = h.readUInt32BE(12);
    if (s === 0) unsigned();
    if (m === 0 || m > MAX_MANIFEST_BYTES || s > 1024) bad("bundle header lengths out of range");
    const end = BUNDLE_HEADER_BYTES + m + s;
    if (h.length < end) return undefined;
    const manifestBytes = h.subarray(BUNDLE_HEADER_BYTES, BUNDLE_HEADER_BYTES + m);
    this.#keyId = trustedSigner(manifestBytes, h.subarray(BUNDLE_HEADER_BYTES + m, end), this.trustedKeys);
    const manifest = parseManifest(manifestBytes);
    let offset = end;
    for (const p of manifest.parts) {
      this.#parts.push({ ...p, offset });
      offset += p.size;
    }
    this.#total = offset;
    this.#manifest = manifest;
    this.onManifest(manifest);
    // Parts of size 0 end before any byte of them arrives.
    while (this.#part < this.#parts.length && this.#parts[this.#part]!.size === 0) this.#endPart();
    return end;
  }

  #endPart(): void {
    const p = this.#parts[this.#part]!;
    const digest = (this.#hash ?? createHash("sha256")).digest("hex");
    if (digest !== p.sha256) bad(`bundle part ${p.name} sha256 mismatch`);
    this.#hash = undefined;
    this.#partDone = 0;
    this.#part++;
    while (this.#part < this.#parts.length && this.#parts[this.#part]!.size === 0) this.#endPart();
  }
}
