import { rmSync, statSync } from "node:fs";
import { run } from "./exec.js";
import type { PartitionName, PlacedPartition } from "./gpt-layout.js";

/**
 * Assembles the raw GPT disk: a sparse file of `diskBytes`, the partition
 * table written by sgdisk from the computed layout, then each partition's
 * file system image dd'ed in at its offset (conv=notrunc,sparse keeps the
 * raw file sparse). Partitions without content (ROOT-B) stay zero.
 */
export function assembleDisk(
  out: string,
  diskBytes: number,
  layout: readonly PlacedPartition[],
  contents: Partial<Record<PartitionName, string>>,
): void {
  rmSync(out, { force: true });
  run("truncate", ["-s", String(diskBytes), out]);
  const args = ["--clear"];
  for (const p of layout) {
    args.push(`--new=${p.index}:${p.startSector}:${p.endSector}`, `--typecode=${p.index}:${p.typeCode}`, `--change-name=${p.index}:${p.name}`);
  }
  run("sgdisk", [...args, out]);
  for (const p of layout) {
    const file = contents[p.name];
    if (!file) continue;
    const size = statSync(file).size;
    if (size > p.sizeBytes) throw new Error(`${p.name} content is ${size} bytes, partition is ${p.sizeBytes}`);
    run("dd", [`if=${file}`, `of=${out}`, "bs=1M", `seek=${p.offsetBytes / (1024 * 1024)}`, "conv=notrunc,sparse", "status=none"]);
  }
}

/** Bytes the file really occupies on disk (sparse files use less than their length). */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}
