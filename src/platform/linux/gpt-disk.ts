import { fsyncSync, readSync, writeSync } from "node:fs";
import { nodeError } from "./errno.js";
import { entriesBytes, parseGptEntries, parseGptHeader, planGptGrow, type GptGrowPlan, type GptPartition } from "./gpt.js";

function reader(fd: number, device: string): (offset: number, length: number) => Buffer {
  return (offset, length) => {
    const buf = Buffer.alloc(length);
    try {
      const n = readSync(fd, buf, 0, length, offset);
      if (n !== length) throw Object.assign(new Error("short read"), { code: "EIO" });
    } catch (e) {
      throw nodeError(`read ${device} at ${offset}`, e);
    }
    return buf;
  };
}

/** The used partitions of the primary GPT of an open disk. */
export function readGptPartitions(fd: number, opts: { sectorSize: number; device: string }): GptPartition[] {
  const read = reader(fd, opts.device);
  const h = parseGptHeader(read(opts.sectorSize, opts.sectorSize));
  return parseGptEntries(h, read(Number(h.entriesLba) * opts.sectorSize, entriesBytes(h, opts.sectorSize)));
}

/**
 * Applies `planGptGrow` to an open disk (block device or image file): reads
 * the MBR, primary header and entries, writes the plan, fsyncs. Returns the
 * plan, or undefined when the partition already reaches the end.
 */
export function growGptPartition(
  fd: number,
  opts: { diskBytes: bigint; sectorSize: number; name: string; device: string },
): GptGrowPlan | undefined {
  const { sectorSize, device } = opts;
  const read = reader(fd, device);
  const lba0 = read(0, sectorSize);
  const primary = read(sectorSize, sectorSize);
  const h = parseGptHeader(primary);
  const entries = read(Number(h.entriesLba) * sectorSize, entriesBytes(h, sectorSize));
  const plan = planGptGrow({
    lba0,
    primary,
    entries,
    diskSectors: opts.diskBytes / BigInt(sectorSize),
    sectorSize,
    name: opts.name,
  });
  if (!plan) return undefined;
  for (const w of plan.writes) {
    try {
      writeSync(fd, w.data, 0, w.data.length, w.offset);
      // Order matters for crash safety (backup before primary): flush each step.
      fsyncSync(fd);
    } catch (e) {
      throw nodeError(`write GPT to ${device} at ${w.offset}`, e);
    }
  }
  return plan;
}
