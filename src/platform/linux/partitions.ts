import { readdir, readFile, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CairnError } from "../../errors/index.js";

/** A partition as sysfs describes it. */
export interface BlockPartition {
  /** `/dev/vda4` */
  readonly device: string;
  /** The whole disk, `/dev/vda`. */
  readonly disk: string;
  /** 1-based partition number (GPT entry index + 1). */
  readonly number: number;
  /** The GPT partition name (PARTNAME), e.g. `EPHEMERAL`. */
  readonly name: string | undefined;
}

/** KEY=value lines of a sysfs uevent file. */
export function parseUevent(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/**
 * Lists partitions from /sys/class/block/<dev>/uevent. The parent disk is
 * the sysfs parent directory of the partition (…/block/vda/vda4), which
 * holds for virtio, NVMe (nvme0n1p1) and loop alike.
 */
export async function listPartitions(sysBlock = "/sys/class/block"): Promise<BlockPartition[]> {
  const out: BlockPartition[] = [];
  let names: string[];
  try {
    names = await readdir(sysBlock);
  } catch {
    return out;
  }
  for (const n of names) {
    let ev: Map<string, string>;
    try {
      ev = parseUevent(await readFile(join(sysBlock, n, "uevent"), "utf8"));
    } catch {
      continue; // the device went away between readdir and read
    }
    if (ev.get("DEVTYPE") !== "partition") continue;
    const disk = basename(dirname(await realpath(join(sysBlock, n))));
    out.push({
      device: `/dev/${ev.get("DEVNAME") ?? n}`,
      disk: `/dev/${disk}`,
      number: Number(ev.get("PARTN") ?? 0),
      name: ev.get("PARTNAME"),
    });
  }
  return out;
}

/**
 * Waits until a partition named `name` appears: virtio-blk probes
 * asynchronously after its module loads, so it may lag a little. Gives up
 * after `timeoutMs` with a NOT_FOUND error that lists what was seen.
 */
export async function waitForPartition(
  name: string,
  opts: { timeoutMs: number; sysBlock?: string; pollMs?: number },
): Promise<BlockPartition> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const parts = await listPartitions(opts.sysBlock);
    const found = parts.filter((p) => p.name === name);
    if (found.length > 1) {
      throw new CairnError("FAILED_PRECONDITION", `find partition ${name}: ${found.length} partitions carry the name`, {
        hint: found.map((p) => p.device).join(", "),
      });
    }
    if (found[0]) return found[0];
    if (Date.now() >= deadline) {
      const seen = parts.map((p) => `${p.device}=${p.name ?? "?"}`).join(", ") || "none";
      throw new CairnError("NOT_FOUND", `find partition ${name}: not found within ${opts.timeoutMs} ms`, {
        hint: `partitions seen: ${seen}`,
      });
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

/** A partition's size in bytes: sysfs `size` counts 512-byte sectors whatever the disk's sector size. */
export async function partitionBytes(device: string, sysBlock = "/sys/class/block"): Promise<number> {
  const path = join(sysBlock, basename(device), "size");
  const text = await readFile(path, "utf8").catch((e: unknown) => {
    throw new CairnError("INTERNAL", `read ${path}: ${(e as Error).message}`);
  });
  return Number(text.trim()) * 512;
}
