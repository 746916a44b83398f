import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnError, isCairnError } from "../../errors/index.js";
import { sha256 } from "../../image/exec.js";
import { verifyBundle, writeBundle, type BundleManifest } from "./bundle-format.js";
import { BundleStreamVerifier } from "./bundle-stream.js";

const key = generateKeyPairSync("ed25519");
const pub = key.publicKey.export({ type: "spki", format: "pem" }).toString();
const foreign = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
const contents = { kernel: Buffer.from("K".repeat(1000)), initramfs: Buffer.alloc(0), rootfs: Buffer.alloc(300_000, 7) };
let dir: string;
let bytes: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-bundle-stream-"));
  const paths: Record<string, string> = {};
  for (const [name, data] of Object.entries(contents)) writeFileSync((paths[name] = join(dir, name)), data);
  const manifest: BundleManifest = {
    format: 1, version: "1.2.3", arch: "amd64", buildId: "t", keyId: "k",
    parts: (["kernel", "initramfs", "rootfs"] as const).map((name) => ({ name, size: contents[name].length, sha256: sha256(contents[name]) })),
  };
  await writeBundle(join(dir, "b.bundle"), manifest, paths, key.privateKey);
  bytes = readFileSync(join(dir, "b.bundle"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds `b` in chunks of `size`; returns the bundle, or the error code and message and how many bytes had been fed. */
function stream(b: Buffer, size: number, keys = [pub], onManifest?: (m: BundleManifest) => void) {
  const v = new BundleStreamVerifier(keys, onManifest);
  let fed = 0;
  try {
    for (; fed < b.length; fed += size) v.update(b.subarray(fed, fed + size));
    return { ok: v.finish(), fed };
  } catch (e) {
    if (!isCairnError(e)) throw e;
    return { code: e.code, message: e.message, fed };
  }
}

describe("BundleStreamVerifier", () => {
  it("agrees with verifyBundle whatever the chunking (1 byte to the whole file)", async () => {
    const whole = await verifyBundle(bytes, [pub]);
    for (const size of [1, 7, 16, 100, 4096, 65536, bytes.length]) {
      if (size === 1) {
        // One byte at a time through the header only: enough to cross every boundary, fast enough.
        const r = stream(bytes.subarray(0, 2000), 1);
        expect(r.code).toBe("INVALID_ARGUMENT");
        expect(r.message).toMatch(/truncated: 2000 of/);
        continue;
      }
      expect(stream(bytes, size).ok).toEqual(whole);
    }
  });

  it("refuses an untrusted signature as soon as the manifest has arrived", () => {
    const r = stream(bytes, 4096, [foreign]);
    expect(r).toMatchObject({ code: "PERMISSION_DENIED", fed: 0 });
  });

  it("refuses an unsigned bundle (signature length 0) as unsigned, before any part byte", () => {
    const m = bytes.readUInt32BE(8);
    const s = bytes.readUInt32BE(12);
    const out = Buffer.concat([bytes.subarray(0, 16 + m), bytes.subarray(16 + m + s)]);
    out.writeUInt32BE(0, 12);
    expect(stream(out, 4096)).toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringMatching(/^bundle is unsigned/), fed: 0 });
  });

  it("hands the trusted manifest to onManifest before any part byte, which may refuse it", () => {
    const seen: string[] = [];
    const v = new BundleStreamVerifier([pub], (m) => seen.push(m.version));
    v.update(bytes.subarray(0, bytes.length - contents.rootfs.length - 1000));
    expect(seen).toEqual(["1.2.3"]);
    expect(v.totalBytes).toBe(bytes.length);
    const refuse = new BundleStreamVerifier([pub], (m) => {
      throw new CairnError("FAILED_PRECONDITION", `no ${m.version}`);
    });
    expect(() => refuse.update(bytes.subarray(0, 4096))).toThrow("no 1.2.3");
  });

  it("refuses a tampered part when that part ends, truncation at finish, and trailing bytes", () => {
    const t = Buffer.from(bytes);
    t[t.length - 10] ^= 1;
    expect(stream(t, 4096)).toMatchObject({ code: "INVALID_ARGUMENT", message: "bundle part rootfs sha256 mismatch" });
    const k = Buffer.from(bytes);
    k[bytes.length - contents.rootfs.length - 5] ^= 1;
    const early = stream(k, 4096);
    expect(early).toMatchObject({ code: "INVALID_ARGUMENT", message: "bundle part kernel sha256 mismatch" });
    expect(early.fed).toBeLessThan(8192);
    expect(stream(bytes.subarray(0, bytes.length - 1), 4096)).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/truncated/) });
    expect(stream(Buffer.concat([bytes, Buffer.from("x")]), 4096)).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/longer than/) });
    const m = Buffer.from(bytes);
    m[0] = 0x41;
    expect(stream(m, 4096)).toMatchObject({ code: "INVALID_ARGUMENT", message: "not a Cairn bundle (bad magic)" });
  });
});
