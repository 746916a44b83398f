import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { verifyBundle, writeBundle, type BundleManifest, type BundlePartName } from "../../../src/machinery/bundle/index.js";
import { writeCpio } from "../../../src/image/cpio-newc.js";

/** The dev release key pair the imager signs test images with (hack/.keys). */
const KEYS = resolve("hack", ".keys");

/**
 * An initramfs whose /init is not a program: the kernel's exec fails
 * (ENOEXEC), it finds no other init and panics "No working init found"
 * before any PID 1 runs. Uncompressed newc cpio, which the kernel accepts
 * like a compressed one.
 */
export function brokenInitramfs(): Buffer {
  return writeCpio([
    { path: "dev", type: "dir" },
    { path: "dev/console", type: "char", major: 5, minor: 1, mode: 0o600 },
    { path: "init", type: "file", data: Buffer.from("CAIRN-BROKEN-INIT: not an executable\n"), mode: 0o755 },
  ]);
}

/**
 * Writes a copy of the signed bundle `src` with a new version and some
 * parts replaced, signed for real with the dev release key (the key every
 * test image trusts), so the node verifies and installs it like any
 * release; or with `key`, e.g. one no node trusts. The source is verified first.
 */
export async function rewriteBundle(src: string, out: string, change: { version: string; parts?: Partial<Record<BundlePartName, Buffer>>; key?: KeyObject }): Promise<void> {
  const pub = readFileSync(join(KEYS, "release.pub.pem"), "utf8");
  const verified = await verifyBundle(src, [pub]);
  const tmp = mkdtempSync(join(resolve("dist"), ".bundle-rewrite-"));
  try {
    const paths: Record<string, string> = {};
    const parts = [];
    const fh = await open(src, "r");
    try {
      for (const p of verified.parts) {
        let data = change.parts?.[p.name];
        if (!data) {
          data = Buffer.alloc(p.size);
          await fh.read(data, 0, p.size, p.offset);
        }
        paths[p.name] = join(tmp, p.name);
        writeFileSync(paths[p.name]!, data);
        parts.push({ name: p.name, size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
      }
    } finally {
      await fh.close();
    }
    const manifest: BundleManifest = { ...verified.manifest, version: change.version, buildId: `${verified.manifest.buildId}-rewritten`, parts };
    const key = change.key ?? createPrivateKey(readFileSync(join(KEYS, "release.key.pem")));
    await writeBundle(out, manifest, paths, key);
    await verifyBundle(out, [createPublicKey(key).export({ type: "spki", format: "pem" }).toString()]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A copy of bundle `src` with its signature removed (signature length 0): an unsigned bundle. */
export function unsignedCopy(src: string, out: string): void {
  const b = readFileSync(src);
  const m = b.readUInt32BE(8);
  const s = b.readUInt32BE(12);
  const copy = Buffer.concat([b.subarray(0, 16 + m), b.subarray(16 + m + s)]);
  copy.writeUInt32BE(0, 12);
  writeFileSync(out, copy);
}

/**
 * A copy of the signed bundle `src` with one byte flipped in the middle of
 * part `part`: signature and manifest intact, the part's sha256 wrong.
 */
export async function tamperedCopy(src: string, out: string, part: BundlePartName): Promise<void> {
  const pub = readFileSync(join(KEYS, "release.pub.pem"), "utf8");
  const p = (await verifyBundle(src, [pub])).parts.find((x) => x.name === part)!;
  const b = readFileSync(src);
  b[p.offset + Math.floor(p.size / 2)]! ^= 0xff;
  writeFileSync(out, b);
}
