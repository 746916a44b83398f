import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "../../errors/index.js";
import { verifyBundle, writeBundle, type BundleManifest } from "./bundle-format.js";
import { sha256 } from "../../image/exec.js";

const key = generateKeyPairSync("ed25519");
const pub = key.publicKey.export({ type: "spki", format: "pem" }).toString();
const foreign = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();

const contents = { kernel: Buffer.from("K".repeat(1000)), initramfs: Buffer.from("I".repeat(77)), rootfs: Buffer.alloc(3 * 1024 * 1024, 7) };

let dir: string;
let bundlePath: string;
let bytes: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-bundle-"));
  const paths: Record<string, string> = {};
  for (const [name, data] of Object.entries(contents)) writeFileSync((paths[name] = join(dir, name)), data);
  const manifest: BundleManifest = {
    format: 1,
    version: "1.2.3",
    arch: "amd64",
    buildId: "test",
    keyId: "k",
    parts: (["kernel", "initramfs", "rootfs"] as const).map((name) => ({ name, size: contents[name].length, sha256: sha256(contents[name]) })),
  };
  bundlePath = join(dir, "b.bundle");
  await writeBundle(bundlePath, manifest, paths, key.privateKey);
  bytes = readFileSync(bundlePath);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    if (isCairnError(err)) return err.code;
    throw err;
  }
}

describe("bundle format", () => {
  it("verifies from a path and from bytes, locating every part", async () => {
    for (const src of [bundlePath, bytes]) {
      const v = await verifyBundle(src, [foreign, pub]);
      expect(v.manifest.version).toBe("1.2.3");
      const rootfs = v.parts.find((p) => p.name === "rootfs")!;
      expect(bytes.subarray(rootfs.offset, rootfs.offset + rootfs.size).equals(contents.rootfs)).toBe(true);
    }
  });

  it("rejects a bundle signed by a key that is not trusted", async () => {
    expect(await code(verifyBundle(bytes, [foreign]))).toBe("PERMISSION_DENIED");
    expect(await code(verifyBundle(bytes, []))).toBe("PERMISSION_DENIED");
  });

  it("rejects an unsigned bundle (signature length 0) as unsigned", async () => {
    const m = bytes.readUInt32BE(8);
    const s = bytes.readUInt32BE(12);
    const out = Buffer.concat([bytes.subarray(0, 16 + m), bytes.subarray(16 + m + s)]);
    out.writeUInt32BE(0, 12);
    await expect(verifyBundle(out, [pub])).rejects.toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringMatching(/^bundle is unsigned/) });
  });

  it("rejects a tampered part", async () => {
    const t = Buffer.from(bytes);
    t[t.length - 10] ^= 1;
    expect(await code(verifyBundle(t, [pub]))).toBe("INVALID_ARGUMENT");
  });

  it("rejects a tampered manifest", async () => {
    const t = Buffer.from(bytes);
    const at = t.indexOf("1.2.3");
    t.write("9", at);
    expect(await code(verifyBundle(t, [pub]))).toBe("PERMISSION_DENIED");
  });

  it("rejects truncation, trailing bytes and bad magic", async () => {
    expect(await code(verifyBundle(bytes.subarray(0, bytes.length - 1), [pub]))).toBe("INVALID_ARGUMENT");
    expect(await code(verifyBundle(Buffer.concat([bytes, Buffer.from("x")]), [pub]))).toBe("INVALID_ARGUMENT");
    const t = Buffer.from(bytes);
    t[0] = 0x41;
    expect(await code(verifyBundle(t, [pub]))).toBe("INVALID_ARGUMENT");
  });
});
