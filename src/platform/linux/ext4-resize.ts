import { closeSync, constants, openSync, statfsSync } from "node:fs";
import { nodeError } from "./errno.js";
import { check, libc } from "./libc.js";

/** _IOW('f', 16, __u64): grow a mounted ext4 to a new block count (online resize). */
const EXT4_IOC_RESIZE_FS = 0x40086610;

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
