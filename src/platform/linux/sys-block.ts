/**
 * Pure parsers for /sys/class/block/<dev>/uevent: `KEY=value` lines such
 * as `DEVTYPE=partition`, `PARTN=3`, `PARTNAME=STATE` (the GPT partition
 * name the kernel read from the entry).
 */
export function parseUevent(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return out;
}

/** A block device's identity from its uevent file. */
export interface UeventDevice {
  readonly name: string;
  readonly type: "disk" | "partition";
  readonly partitionNumber: number;
  readonly partitionLabel: string;
}

/** DEVNAME, DEVTYPE, PARTN and PARTNAME; undefined when the file names no device. */
export function ueventDevice(text: string): UeventDevice | undefined {
  const u = parseUevent(text);
  const name = u.get("DEVNAME");
  if (!name) return undefined;
  return {
    name,
    type: u.get("DEVTYPE") === "partition" ? "partition" : "disk",
    partitionNumber: Number(u.get("PARTN") ?? 0),
    partitionLabel: u.get("PARTNAME") ?? "",
  };
}
