/**
 * The Cairn disk layout: partition names, GPT types and sizes, and where
 * each lands on the disk. Pure, so the offsets that sgdisk writes and that
 * dd uses come from one computation.
 */

/** GPT partition name (what stage 1 and machined look for in uevent PARTNAME). */
export type PartitionName = "EFI" | "ROOT-A" | "ROOT-B" | "STATE" | "EPHEMERAL";

/** One partition as specified: sgdisk type code and size (MiB, or the rest of the disk). */
export interface PartitionSpec {
  readonly name: PartitionName;
  readonly typeCode: string;
  readonly sizeMiB: number | "rest";
}

/**
 * Default layout. EFI holds two slots' kernel (14 MB) + initramfs (~1 MB)
 * with room for growth; a root slot holds a ~40 MB squashfs with room for
 * the real daemon; STATE is config and keys; EPHEMERAL (/var) takes the
 * rest and is grown to the real disk size on first boot.
 */
export const DEFAULT_LAYOUT: readonly PartitionSpec[] = [
  { name: "EFI", typeCode: "ef00", sizeMiB: 128 },
  { name: "ROOT-A", typeCode: "8304", sizeMiB: 256 },
  { name: "ROOT-B", typeCode: "8304", sizeMiB: 256 },
  { name: "STATE", typeCode: "8300", sizeMiB: 64 },
  { name: "EPHEMERAL", typeCode: "8300", sizeMiB: "rest" },
];

/** Default raw image size: small to ship, grown on first boot. */
export const DEFAULT_DISK_MIB = 1024;

/** A placed partition. Sectors are 512 bytes; endSector is inclusive (sgdisk's convention). */
export interface PlacedPartition extends PartitionSpec {
  readonly index: number;
  readonly startSector: number;
  readonly endSector: number;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
}

const MIB = 1024 * 1024;
const SECTORS_PER_MIB = MIB / 512;

/**
 * Places partitions 1 MiB-aligned from 1 MiB on, leaving the last MiB for
 * the backup GPT. Throws when the fixed partitions do not fit.
 */
export function placePartitions(diskMiB: number, specs: readonly PartitionSpec[] = DEFAULT_LAYOUT): PlacedPartition[] {
  let startMiB = 1;
  const usableEndMiB = diskMiB - 1;
  const placed = specs.map((spec, i) => {
    const size = spec.sizeMiB === "rest" ? usableEndMiB - startMiB : spec.sizeMiB;
    if (size <= 0 || startMiB + size > usableEndMiB) {
      throw new Error(`partition ${spec.name} does not fit in a ${diskMiB} MiB disk`);
    }
    const p: PlacedPartition = {
      ...spec,
      index: i + 1,
      startSector: startMiB * SECTORS_PER_MIB,
      endSector: (startMiB + size) * SECTORS_PER_MIB - 1,
      offsetBytes: startMiB * MIB,
      sizeBytes: size * MIB,
    };
    startMiB += size;
    return p;
  });
  return placed;
}
