import { closeSync, openSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { CairnError } from "../../errors/index.js";
import { blockDeviceBytes, blockSectorSize, resizeKernelPartition } from "./block-device.js";
import { nodeError } from "./errno.js";
import { growExt4Online, readExt4Superblock } from "./ext4-resize.js";
import { growGptPartition, readGptPartitions } from "./gpt-disk.js";
import type { BlockPartition } from "./partitions.js";

/** What the grow step did, for the boot log. */
export interface GrowResult {
  readonly tableRewritten: boolean;
  readonly kernelResized: boolean;
  readonly partitionBytes: bigint;
  readonly fsBlocks: bigint;
}

/**
 * First-boot growth of EPHEMERAL to the end of its disk, with the file
 * system mounted: (1) rewrite the GPT so the partition ends at the disk
 * end, (2) tell the kernel with BLKPG, (3) grow the ext4 online.
 *
 * Every step checks the current state rather than trusting a flag, so a
 * power cut between steps is repaired on the next boot, and a later boot
 * on an already-grown disk does nothing (ext4 treats an equal size as a no-op).
 */
export function growEphemeral(part: BlockPartition, mountPoint: string, name: string): GrowResult {
  const r = growPartitionToDiskEnd(part, name);
  const sb = readExt4Superblock(part.device);
  // Skip the ioctl when the file system already fills the partition: the kernel logs every resize call.
  if (sb.blocks === r.partitionBytes / BigInt(sb.blockSize)) return { ...r, fsBlocks: sb.blocks };
  const fs = growExt4Online(mountPoint, r.partitionBytes);
  return { ...r, fsBlocks: fs.newBlocks };
}

/** Steps (1) and (2) of `growEphemeral`: the GPT rewrite and the kernel's view of it. */
export function growPartitionToDiskEnd(part: BlockPartition, name: string): Omit<GrowResult, "fsBlocks"> {
  let fd: number;
  try {
    fd = openSync(part.disk, "r+");
  } catch (e) {
    throw nodeError(`open ${part.disk}`, e);
  }
  try {
    const sectorSize = blockSectorSize(fd, part.disk);
    const diskBytes = blockDeviceBytes(fd, part.disk);
    const plan = growGptPartition(fd, { diskBytes, sectorSize, name, device: part.disk });
    const entry = readGptPartitions(fd, { sectorSize, device: part.disk }).find((p) => p.name === name);
    if (!entry || entry.number !== part.number) {
      throw new CairnError("FAILED_PRECONDITION", `grow ${part.device}: GPT entry ${name} does not match partition ${part.number}`);
    }
    const ss = BigInt(sectorSize);
    const startBytes = entry.firstLba * ss;
    const partitionBytes = (entry.lastLba - entry.firstLba + 1n) * ss;
    const kernelResized = kernelPartitionBytes(part.device) !== partitionBytes;
    if (kernelResized) resizeKernelPartition(fd, part.disk, part.number, startBytes, partitionBytes);
    return { tableRewritten: plan !== undefined, kernelResized, partitionBytes };
  } finally {
    closeSync(fd);
  }
}

/** The kernel's idea of a partition's size: sysfs `size` counts 512-byte sectors regardless of the disk's sector size. */
function kernelPartitionBytes(device: string): bigint {
  const path = `/sys/class/block/${basename(device)}/size`;
  try {
    return BigInt(readFileSync(path, "utf8").trim()) * 512n;
  } catch (e) {
    throw nodeError(`read ${path}`, e);
  }
}
