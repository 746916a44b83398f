import { describe, expect, it } from "vitest";
import { DEFAULT_DISK_MIB, placePartitions } from "./gpt-layout.js";

describe("placePartitions", () => {
  const parts = placePartitions(DEFAULT_DISK_MIB);

  it("places the five partitions in order, aligned and contiguous", () => {
    expect(parts.map((p) => p.name)).toEqual(["EFI", "ROOT-A", "ROOT-B", "STATE", "EPHEMERAL"]);
    expect(parts[0]!.startSector).toBe(2048);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.startSector).toBe(parts[i - 1]!.endSector + 1);
    for (const p of parts) {
      expect(p.offsetBytes % (1024 * 1024)).toBe(0);
      expect((p.endSector - p.startSector + 1) * 512).toBe(p.sizeBytes);
    }
  });

  it("gives both root slots the same size and leaves room for the backup GPT", () => {
    expect(parts[1]!.sizeBytes).toBe(parts[2]!.sizeBytes);
    expect((parts.at(-1)!.endSector + 1) * 512).toBe((DEFAULT_DISK_MIB - 1) * 1024 * 1024);
  });

  it("refuses a disk that is too small", () => {
    expect(() => placePartitions(600)).toThrow(/does not fit/);
  });
});
