import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { crc32 } from "./crc32.js";
import { growGptPartition } from "./gpt-disk.js";
import { parseGptEntries, parseGptHeader, planGptGrow } from "./gpt.js";

const MiB = 1024 * 1024;
let hasSgdisk = true;
try {
  execFileSync("sgdisk", ["--version"], { stdio: "ignore" });
} catch {
  hasSgdisk = false;
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A Cairn-like layout: EFI, STATE, EPHEMERAL to the end of a `sizeMiB` image. */
function makeImage(sizeMiB: number): string {
  dir = mkdtempSync(join(tmpdir(), "cairn-gpt-"));
  const img = join(dir, "disk.img");
  writeFileSync(img, "");
  truncateSync(img, sizeMiB * MiB);
  execFileSync("sgdisk", ["-n1:2048:+4M", "-c1:EFI", "-t1:ef00", "-n2:0:+4M", "-c2:STATE", "-n3:0:0", "-c3:EPHEMERAL", img], {
    stdio: "ignore",
  });
  return img;
}

function grow(img: string, name = "EPHEMERAL"): ReturnType<typeof growGptPartition> {
  const fd = openSync(img, "r+");
  try {
    return growGptPartition(fd, { diskBytes: BigInt(readFileSync(img).length), sectorSize: 512, name, device: img });
  } finally {
    closeSync(fd);
  }
}

describe("crc32", () => {
  it("matches the IEEE check value", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
  });
});

// sgdisk (gdisk package) builds and verifies the images; without it there is nothing to compare against.
describe.skipIf(!hasSgdisk)("GPT grow on an image file (needs sgdisk)", () => {
  it("reads the layout sgdisk wrote", () => {
    const img = makeImage(32);
    const buf = readFileSync(img);
    const h = parseGptHeader(buf.subarray(512, 1024));
    expect(h.alternateLba).toBe(BigInt((32 * MiB) / 512 - 1));
    const parts = parseGptEntries(h, buf.subarray(1024, 1024 + 128 * 128));
    expect(parts.map((p) => [p.number, p.name])).toEqual([
      [1, "EFI"],
      [2, "STATE"],
      [3, "EPHEMERAL"],
    ]);
  });

  it("moves the backup header to the new end and extends EPHEMERAL; sgdisk -v finds no problems", () => {
    const img = makeImage(32);
    expect(grow(img)).toBeUndefined(); // already at the end: nothing to do
    truncateSync(img, 48 * MiB);
    const plan = grow(img);
    const sectors = (48 * MiB) / 512;
    expect(plan?.partition.number).toBe(3);
    expect(plan?.newLastLba).toBe(BigInt(sectors - 34));
    const verify = execFileSync("sgdisk", ["-v", img], { encoding: "utf8" });
    expect(verify).toContain("No problems found");
    const info = execFileSync("sgdisk", ["-i", "3", img], { encoding: "utf8" });
    expect(info).toMatch(new RegExp(`Last sector: ${sectors - 34} `));
    expect(info).toContain("Partition name: 'EPHEMERAL'");
    expect(grow(img)).toBeUndefined(); // idempotent
  });

  it("refuses to grow a partition that is not the last one", () => {
    const img = makeImage(32);
    truncateSync(img, 40 * MiB);
    expect(() => grow(img, "STATE")).toThrow(/STATE is not the last partition \(EPHEMERAL is\)/);
    expect(() => grow(img, "NOPE")).toThrow(/no partition named NOPE/);
  });

  it("rejects a header with a bad CRC", () => {
    const img = makeImage(32);
    const buf = readFileSync(img);
    const primary = Buffer.from(buf.subarray(512, 1024));
    primary[40] = (primary[40] as number) ^ 1;
    expect(() =>
      planGptGrow({ lba0: buf.subarray(0, 512), primary, entries: buf.subarray(1024, 1024 + 16384), diskSectors: 100000n, sectorSize: 512, name: "EPHEMERAL" }),
    ).toThrow(/header CRC32 mismatch/);
  });
});
