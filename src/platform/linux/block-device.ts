import { BLKPG_PARTITION_SIZE, check, libc } from "./libc.js";

/** Block-device ioctl request numbers (linux/fs.h, linux/blkpg.h). */
const BLKSSZGET = 0x1268;
const BLKPG = 0x1269;
const BLKGETSIZE64 = 0x80081272;
const BLKPG_ADD_PARTITION = 1;
const BLKPG_DEL_PARTITION = 2;
const BLKPG_RESIZE_PARTITION = 3;

/** Size in bytes of the block device open on `fd` (BLKGETSIZE64). */
export function blockDeviceBytes(fd: number, device: string): bigint {
  const buf = Buffer.alloc(8);
  check(libc().ioctl(fd, BLKGETSIZE64, buf), `get size of ${device}`);
  return buf.readBigUInt64LE(0);
}

/** Logical sector size of the block device open on `fd` (BLKSSZGET): 512 or 4096. */
export function blockSectorSize(fd: number, device: string): number {
  const buf = Buffer.alloc(4);
  check(libc().ioctl(fd, BLKSSZGET, buf), `get sector size of ${device}`);
  return buf.readInt32LE(0);
}

function blkpg(fd: number, op: number, pno: number, startBytes: bigint, lengthBytes: bigint, what: string): void {
  const ret = libc().ioctlBlkpg(fd, BLKPG, {
    op,
    flags: 0,
    datalen: BLKPG_PARTITION_SIZE,
    data: { start: startBytes, length: lengthBytes, pno, devname: "", volname: "" },
  });
  check(ret, what);
}

/**
 * Tells the kernel a partition changed size without re-reading the whole
 * table: BLKRRPART fails with EBUSY while any partition of the disk is
 * mounted, BLKPG_RESIZE_PARTITION does not. `fd` is the whole disk.
 */
export function resizeKernelPartition(fd: number, device: string, pno: number, startBytes: bigint, lengthBytes: bigint): void {
  blkpg(fd, BLKPG_RESIZE_PARTITION, pno, startBytes, lengthBytes, `resize partition ${pno} of ${device} (BLKPG)`);
}

/** Adds a partition to the kernel's view of a disk (tests use it on loop devices without partition scanning). */
export function addKernelPartition(fd: number, device: string, pno: number, startBytes: bigint, lengthBytes: bigint): void {
  blkpg(fd, BLKPG_ADD_PARTITION, pno, startBytes, lengthBytes, `add partition ${pno} to ${device} (BLKPG)`);
}

/** Removes a partition from the kernel's view of a disk. */
export function deleteKernelPartition(fd: number, device: string, pno: number): void {
  blkpg(fd, BLKPG_DEL_PARTITION, pno, 0n, 0n, `delete partition ${pno} of ${device} (BLKPG)`);
}
