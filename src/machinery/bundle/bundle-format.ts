import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { CairnError } from "../../errors/index.js";
import { parseManifest } from "./bundle-manifest.js";
import type { BundleManifest, BundlePartName } from "./bundle-manifest.js";

export type { BundleManifest, BundlePart, BundlePartName } from "./bundle-manifest.js";

/**
 * Cairn upgrade bundle, format 1 (all integers big-endian):
 *
 *   0   8 bytes  magic "CAIRNBD1"
 *   8   u32      M = manifest length (at most 64 KiB)
 *   12  u32      S = signature length (64 for ed25519)
 *   16  M bytes  manifest: UTF-8 JSON {format:1, version, arch, buildId, keyId, parts:[{name,size,sha256}]}
 *   .   S bytes  ed25519 signature over exactly those M manifest bytes
 *   .   parts    concatenated in manifest order, no padding
 *
 * The signature covers the manifest and the manifest pins every part by
 * sha256 and size, so one signature check plus streaming hashes verify the
 * whole file before a node writes a byte of it to its inactive slot.
 */
export const BUNDLE_MAGIC = Buffer.from("CAIRNBD1", "ascii");
/** Bytes before the manifest: magic and the two lengths. */
export const BUNDLE_HEADER_BYTES = 16;
export const MAX_MANIFEST_BYTES = 64 * 1024;
const HEADER = BUNDLE_HEADER_BYTES;
const MAX_MANIFEST = MAX_MANIFEST_BYTES;

/** A part with its location in the bundle file, ready to be streamed out. */
export interface LocatedPart {
  readonly name: BundlePartName;
  readonly size: number;
  readonly sha256: string;
  readonly offset: number;
}

/** What verifyBundle returns: the trusted manifest and where each part lies. */
export interface VerifiedBundle {
  readonly manifest: BundleManifest;
  readonly parts: readonly LocatedPart[];
  /** Id of the trusted key that signed it. */
  readonly keyId: string;
}

/**
 * Writes a bundle to `outPath` from part files on disk, streaming them (a
 * rootfs is tens of MB) and signing the manifest with `privateKey`.
 */
export async function writeBundle(
  outPath: string,
  manifest: BundleManifest,
  partPaths: Readonly<Record<string, string>>,
  privateKey: KeyObject,
): Promise<void> {
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  parseManifest(manifestBytes);
  const signature = sign(null, manifestBytes, privateKey);
  const header = Buffer.alloc(HEADER);
  BUNDLE_MAGIC.copy(header, 0);
  header.writeUInt32BE(manifestBytes.length, 8);
  header.writeUInt32BE(signature.length, 12);
  const out = createWriteStream(outPath);
  await new Promise<void>((res, rej) => out.write(Buffer.concat([header, manifestBytes, signature]), (e) => (e ? rej(e) : res())));
  for (const part of manifest.parts) {
    const path = partPaths[part.name];
    if (!path) throw new Error(`no file for bundle part ${part.name}`);
    await pipeline(createReadStream(path), out, { end: false });
  }
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

/**
 * Verifies a bundle (bytes in memory, or a file path read in chunks) against
 * the trusted release public keys (PEM): magic, lengths, the ed25519
 * signature over the manifest, the manifest's shape, the total size and the
 * sha256 of every part. Throws CairnError INVALID_ARGUMENT for a malformed
 * or tampered bundle and PERMISSION_DENIED for one no trusted key signed.
 */
export async function verifyBundle(source: Uint8Array | string, trustedPublicKeysPem: readonly string[]): Promise<VerifiedBundle> {
  const src = await openSource(source);
  try {
    const header = await src.read(0, HEADER);
    if (header.length < HEADER || !header.subarray(0, 8).equals(BUNDLE_MAGIC)) bad("not a Cairn bundle (bad magic)");
    const m = header.readUInt32BE(8);
    const s = header.readUInt32BE(12);
    if (s === 0) unsigned();
    if (m === 0 || m > MAX_MANIFEST || s > 1024) bad("bundle header lengths out of range");
    const manifestBytes = await src.read(HEADER, m);
    const signature = await src.read(HEADER + m, s);
    if (manifestBytes.length !== m || signature.length !== s) bad("bundle truncated in its header");

    const keyId = trustedSigner(manifestBytes, signature, trustedPublicKeysPem);
    const manifest = parseManifest(manifestBytes);
    let offset = HEADER + m + s;
    const parts: LocatedPart[] = [];
    for (const p of manifest.parts) {
      parts.push({ ...p, offset });
      offset += p.size;
    }
    if (offset !== src.size) bad(`bundle is ${src.size} bytes, manifest says ${offset}`);
    for (const p of parts) {
      const digest = await src.sha256(p.offset, p.size);
      if (digest !== p.sha256) bad(`bundle part ${p.name} sha256 mismatch`);
    }
    return { manifest, parts, keyId };
  } finally {
    await src.close();
  }
}

/** Returns the id of the first trusted key whose signature matches, else throws. */
export function trustedSigner(data: Buffer, signature: Buffer, pems: readonly string[]): string {
  for (const pem of pems) {
    const key = createPublicKey(pem);
    if (verify(null, data, key, signature)) {
      const der = key.export({ type: "spki", format: "der" });
      return createHash("sha256").update(der).digest("hex").slice(0, 16);
    }
  }
  throw new CairnError("PERMISSION_DENIED", "bundle signature does not match any trusted release key");
}

function bad(message: string): never {
  throw new CairnError("INVALID_ARGUMENT", message);
}

/** A bundle whose header announces no signature: refused like an untrusted one, and said so plainly. */
export function unsigned(): never {
  throw new CairnError("PERMISSION_DENIED", "bundle is unsigned (no signature): only bundles signed by a trusted release key are installed");
}

interface Source {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  sha256(offset: number, length: number): Promise<string>;
  close(): Promise<void>;
}

async function openSource(source: Uint8Array | string): Promise<Source> {
  if (typeof source !== "string") {
    const buf = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return {
      size: buf.length,
      read: async (o, l) => buf.subarray(o, o + l),
      sha256: async (o, l) => createHash("sha256").update(buf.subarray(o, o + l)).digest("hex"),
      close: async () => {},
    };
  }
  const fh = await open(source, "r");
  const size = (await fh.stat()).size;
  const chunk = Buffer.alloc(1024 * 1024);
  return {
    size,
    read: async (o, l) => {
      const b = Buffer.alloc(l);
      const { bytesRead } = await fh.read(b, 0, l, o);
      return b.subarray(0, bytesRead);
    },
    sha256: async (o, l) => {
      const h = createHash("sha256");
      for (let done = 0; done < l; ) {
        const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, l - done), o + done);
        if (bytesRead === 0) bad("bundle truncated in its parts");
        h.update(chunk.subarray(0, bytesRead));
        done += bytesRead;
      }
      return h.digest("hex");
    },
    close: () => fh.close(),
  };
}
