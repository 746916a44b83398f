import { CairnError } from "../../errors/index.js";
import { crc32 } from "./crc32.js";

/**
 * GUID Partition Table (UEFI spec §5.3) reading and the one rewrite Cairn
 * needs: after the disk grew (a VM image written to a bigger disk), move
 * the backup header to the new end and stretch the last partition over the
 * free space. Pure functions over Buffers: the caller reads sectors and
 * applies the returned writes, so the same code runs on an image file in a
 * unit test and on /dev/vda at first boot.
 */

const SIGNATURE = "EFI PART";

/** The GPT header fields Cairn reads or rewrites; LBAs are bigint (u64 on disk). */
export interface GptHeader {
  readonly headerSize: number;
  readonly myLba: bigint;
  readonly alternateLba: bigint;
  readonly firstUsableLba: bigint;
  readonly lastUsableLba: bigint;
  readonly entriesLba: bigint;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc: number;
}

/** One used partition entry; `number` is its 1-based index, the kernel's partition number. */
export interface GptPartition {
  readonly number: number;
  readonly name: string;
  readonly firstLba: bigint;
  readonly lastLba: bigint;
}

/** Parses and CRC-checks a header sector; throws FAILED_PRECONDITION when it is not a valid GPT. */
export function parseGptHeader(sector: Buffer): GptHeader {
  if (sector.toString("latin1", 0, 8) !== SIGNATURE) {
    throw new CairnError("FAILED_PRECONDITION", "read GPT header: no EFI PART signature");
  }
  const headerSize = sector.readUInt32LE(12);
  if (headerSize < 92 || headerSize > sector.length) {
    throw new CairnError("FAILED_PRECONDITION", `read GPT header: bad header size ${headerSize}`);
  }
  if (headerCrc(sector, headerSize) !== sector.readUInt32LE(16)) {
    throw new CairnError("FAILED_PRECONDITION", "read GPT header: header CRC32 mismatch");
  }
  return {
    headerSize,
    myLba: sector.readBigUInt64LE(24),
    alternateLba: sector.readBigUInt64LE(32),
    firstUsableLba: sector.readBigUInt64LE(40),
    lastUsableLba: sector.readBigUInt64LE(48),
    entriesLba: sector.readBigUInt64LE(72),
    entryCount: sector.readUInt32LE(80),
    entrySize: sector.readUInt32LE(84),
    entriesCrc: sector.readUInt32LE(88),
  };
}

/** Bytes the entry array occupies, rounded up to whole sectors. */
export function entriesBytes(h: GptHeader, sectorSize: number): number {
  return Math.ceil((h.entryCount * h.entrySize) / sectorSize) * sectorSize;
}

/** Used entries (non-zero type GUID) of a CRC-checked entry array. */
export function parseGptEntries(h: GptHeader, entries: Buffer): GptPartition[] {
  if (crc32(entries.subarray(0, h.entryCount * h.entrySize)) !== h.entriesCrc) {
    throw new CairnError("FAILED_PRECONDITION", "read GPT entries: entry array CRC32 mismatch");
  }
  const out: GptPartition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const e = entries.subarray(i * h.entrySize, (i + 1) * h.entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    out.push({
      number: i + 1,
      name: e.toString("utf16le", 56, 128).replace(/\0.*$/s, ""),
      firstLba: e.readBigUInt64LE(32),
      lastLba: e.readBigUInt64LE(40),
    });
  }
  return out;
}

/** A sector-aligned write the caller performs; offsets in bytes. */
export interface DiskWrite {
  readonly offset: number;
  readonly data: Buffer;
}

/** The rewrite for a grown disk, or undefined when the partition already ends at the disk end. */
export interface GptGrowPlan {
  readonly partition: GptPartition;
  readonly newLastLba: bigint;
  /** In the order to apply: backup copy first, primary last, so a crash leaves one valid table. */
  readonly writes: readonly DiskWrite[];
}

/**
 * Plans growing partition `name` to the end of a disk of `diskSectors`
 * sectors. `lba0` is the protective MBR sector, `primary` the header sector
 * at LBA 1, `entries` the primary entry array. The named partition must be
 * the last one on the disk, since only that one can grow in place.
 */
export function planGptGrow(input: {
  lba0: Buffer;
  primary: Buffer;
  entries: Buffer;
  diskSectors: bigint;
  sectorSize: number;
  name: string;
}): GptGrowPlan | undefined {
  const { sectorSize } = input;
  const h = parseGptHeader(input.primary);
  const parts = parseGptEntries(h, input.entries);
  const target = parts.find((p) => p.name === input.name);
  if (!target) throw new CairnError("NOT_FOUND", `grow GPT: no partition named ${input.name}`);
  const last = parts.reduce((a, b) => (b.lastLba > a.lastLba ? b : a));
  if (last !== target) {
    throw new CairnError("FAILED_PRECONDITION", `grow GPT: ${input.name} is not the last partition (${last.name} is)`);
  }
  const entrySectors = BigInt(entriesBytes(h, sectorSize) / sectorSize);
  const newAlternate = input.diskSectors - 1n;
  const newBackupEntries = newAlternate - entrySectors;
  const newLastUsable = newBackupEntries - 1n;
  if (newLastUsable < target.lastLba) {
    throw new CairnError("FAILED_PRECONDITION", `grow GPT: disk of ${input.diskSectors} sectors is smaller than the table`);
  }
  if (h.alternateLba === newAlternate && target.lastLba === newLastUsable) return undefined;

  const entries = Buffer.from(input.entries);
  entries.writeBigUInt64LE(newLastUsable, (target.number - 1) * h.entrySize + 40);
  const entriesCrc = crc32(entries.subarray(0, h.entryCount * h.entrySize));

  const primary = Buffer.from(input.primary);
  primary.writeBigUInt64LE(newAlternate, 32);
  primary.writeBigUInt64LE(newLastUsable, 48);
  primary.writeUInt32LE(entriesCrc, 88);
  sealHeader(primary, h.headerSize);

  const backup = Buffer.from(primary);
  backup.writeBigUInt64LE(newAlternate, 24);
  backup.writeBigUInt64LE(1n, 32);
  backup.writeBigUInt64LE(newBackupEntries, 72);
  sealHeader(backup, h.headerSize);

  const off = (lba: bigint): number => Number(lba) * sectorSize;
  const writes: DiskWrite[] = [
    { offset: off(newBackupEntries), data: entries },
    { offset: off(newAlternate), data: backup },
  ];
  // A stale backup header in the middle of the disk could be mistaken for ours later.
  if (h.alternateLba !== newAlternate && h.alternateLba < newBackupEntries) {
    writes.push({ offset: off(h.alternateLba), data: Buffer.alloc(sectorSize) });
  }
  writes.push({ offset: off(h.entriesLba), data: entries }, { offset: off(1n), data: primary });
  const mbr = growProtectiveMbr(input.lba0, input.diskSectors);
  if (mbr) writes.push({ offset: 0, data: mbr });
  return { partition: target, newLastLba: newLastUsable, writes };
}

/** The protective MBR's 0xEE entry must cover the disk (capped at 2^32-1 sectors). */
function growProtectiveMbr(lba0: Buffer, diskSectors: bigint): Buffer | undefined {
  if (lba0.readUInt16LE(510) !== 0xaa55 || lba0[446 + 4] !== 0xee) return undefined;
  const size = Number(diskSectors - 1n > 0xffffffffn ? 0xffffffffn : diskSectors - 1n);
  if (lba0.readUInt32LE(446 + 12) === size) return undefined;
  const mbr = Buffer.from(lba0);
  mbr.writeUInt32LE(size, 446 + 12);
  return mbr;
}

function headerCrc(sector: Buffer, headerSize: number): number {
  const copy = Buffer.from(sector.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  return crc32(copy);
}

function sealHeader(sector: Buffer, headerSize: number): void {
  sector.writeUInt32LE(headerCrc(sector, headerSize), 16);
}
