import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseExt4Superblock, readExt4Superblock } from "./ext4-resize.js";

let hasMkfs = true;
try {
  execFileSync("mkfs.ext4", ["-V"], { stdio: "ignore" });
} catch {
  hasMkfs = false;
}

describe("ext4 superblock", () => {
  it("rejects a buffer without the ext4 magic", () => {
    expect(() => parseExt4Superblock(Buffer.alloc(1024))).toThrow(/bad magic/);
  });

  // mkfs.ext4 (e2fsprogs) makes the fixture; it works on a plain file without root.
  it.skipIf(!hasMkfs)("reads block size and count of a file system made by mkfs.ext4", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-ext4-"));
    try {
      const img = join(dir, "fs.img");
      writeFileSync(img, "");
      truncateSync(img, 64 * 1024 * 1024);
      execFileSync("mkfs.ext4", ["-q", "-F", "-b", "4096", "-O", "64bit", img], { stdio: "ignore" });
      expect(readExt4Superblock(img)).toEqual({ blockSize: 4096, blocks: 16384n });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
