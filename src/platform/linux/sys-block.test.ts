import { describe, expect, it } from "vitest";
import { orderDevices } from "./inspect.js";
import { parseUevent, ueventDevice } from "./sys-block.js";

describe("uevent", () => {
  it("reads a GPT partition's number and label (PARTNAME)", () => {
    const text = "MAJOR=254\nMINOR=4\nDEVNAME=vda4\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=4\nPARTNAME=STATE\n";
    expect(parseUevent(text).get("MAJOR")).toBe("254");
    expect(ueventDevice(text)).toEqual({ name: "vda4", type: "partition", partitionNumber: 4, partitionLabel: "STATE" });
  });
  it("reads a disk, and refuses text without a device name", () => {
    expect(ueventDevice("MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\nDISKSEQ=9\n")).toEqual({ name: "vda", type: "disk", partitionNumber: 0, partitionLabel: "" });
    expect(ueventDevice("MAJOR=1\n")).toBeUndefined();
  });
});

describe("orderDevices", () => {
  it("puts each disk before its partitions, in partition order", () => {
    const d = (name: string, type: string, parent: string, partitionNumber: number) => ({ name, type, parent, partitionNumber });
    const out = orderDevices([d("vda3", "partition", "vda", 3), d("vdb", "disk", "", 0), d("vda", "disk", "", 0), d("vda1", "partition", "vda", 1), d("nvme0n1p1", "partition", "nvme0n1", 1)]);
    expect(out.map((x) => x.name)).toEqual(["vda", "vda1", "vda3", "vdb", "nvme0n1p1"]);
  });
});
