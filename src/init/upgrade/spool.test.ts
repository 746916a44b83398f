import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spoolUpload } from "./spool.js";

const dir = mkdtempSync(join(tmpdir(), "cairn-spool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = Buffer.from("a bundle's bytes, in three chunks");
const sha = createHash("sha256").update(data).digest("hex");
async function* chunks(b: Buffer, n = 3): AsyncIterable<Uint8Array> {
  const step = Math.ceil(b.length / n);
  for (let i = 0; i < b.length; i += step) yield b.subarray(i, i + step);
}

describe("spoolUpload", () => {
  it("writes exactly the announced bytes and returns the file", async () => {
    const path = await spoolUpload(dir, { size: data.length, sha256: sha }, chunks(data));
    expect(readFileSync(path)).toEqual(data);
    rmSync(path);
  });

  it("refuses a truncated upload and an overlong one, leaving no file", async () => {
    await expect(spoolUpload(dir, { size: data.length, sha256: sha }, chunks(data.subarray(0, 10)))).rejects.toThrow(/truncated: received 10 of/);
    await expect(spoolUpload(dir, { size: 10, sha256: sha }, chunks(data))).rejects.toThrow(/longer than the 10 bytes/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a header without size or digest", async () => {
    await expect(spoolUpload(dir, { size: 0, sha256: sha }, chunks(data))).rejects.toThrow(/size/);
    await expect(spoolUpload(dir, { size: data.length, sha256: "abc" }, chunks(data))).rejects.toThrow(/sha256/);
  });
});
