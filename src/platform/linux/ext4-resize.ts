import { closeSync, constants, openSync, readSync, statfsSync } from "node:fs";
import { CairnError } from "../../errors/index.js";
import { nodeError } from "./errno.js";
import { check, libc } from "./libc.js";

/** _IOW('f', 16, __u64): grow a mounted ext4 to a new block count (online resize). */
const EXT4_IOC_RESIZE_FS = 0x40086610;

const EXT4_SUPER_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;

/**
 * Block size and count from an ext4 superblock (the 1024 bytes at offset
 * 1024 of the device). The count's high half is only valid with the 64bit
 * feature.
 */
export function parseExt4Superblock(sb: Buffer): { blockSize: number; blocks: bigint } {
  if (sb.length < 0x154 || sb.readUInt16LE(0x38) !== EXT4_SUPER_MAGIC) {
    throw new CairnError("FAILED_PRECONDITION", "read ext4 superblock: bad magic");
  }
  const lo = BigInt(sb.readUInt32LE(0x4));
  const hi = sb.readUInt32LE(0x60) & INCOMPAT_64BIT ? BigInt(sb.readUInt32LE(0x150)) : 0n;
  return { blockSize: 1024 << sb.readUInt32LE(0x18), blocks: (hi << 32n) | lo };
}

/**
 * Reads the superblock through the block device. For a mounted file system
 * this goes through the same page cache ext4 keeps its superblock in, so
 * the count is current.
 */
export function readExt4Superblock(device: string): { blockSize: number; blocks: bigint } {
  const buf = Buffer.alloc(1024);
  let fd: number;
  try {
    fd = openSync(device, "r");
  } catch (e) {
    throw nodeError(`open ${device}`, e);
  }
  try {
    readSync(fd, buf, 0, 1024, 1024);
  } catch (e) {
    throw nodeError(`read ext4 superblock of ${device}`, e);
  } finally {
    closeSync(fd);
  }
  return parseExt4Superblock(buf);
}

/**
 * Grows the ext4 mounted at `mountPoint` to fill `deviceBytes`, online, the
 * way resize2fs does for a mounted file system but without the binary
 * (the image has none). Returns the old and new size in blocks.
 */
export function growExt4Online(mountPoint: string, deviceBytes: bigint): { blockSize: number; oldBlocks: number; newBlocks: bigint } {
  let st;
  try {
    st = statfsSync(mountPoint, { bigint: false });
  } catch (e) {
    throw nodeError(`statfs ${mountPoint}`, e);
  }
  // ext4 reports its block size as f_bsize.
  const blockSize = st.bsize;
  const newBlocks = deviceBytes / BigInt(blockSize);
  let fd: number;
  try {
    fd = openSync(mountPoint, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw nodeError(`open ${mountPoint}`, e);
  }
  try {
    const arg = Buffer.alloc(8);
    arg.writeBigUInt64LE(newBlocks);
    check(libc().ioctl(fd, EXT4_IOC_RESIZE_FS, arg), `grow ext4 at ${mountPoint} to ${newBlocks} blocks`);
  } finally {
    closeSync(fd);
  }
  return { blockSize, oldBlocks: st.blocks, newBlocks };
}
