import { describe, expect, it } from "vitest";
import { DEFAULT_DISK_SIZE_GIB, overlaySizeBytes } from "./overlay-disk.js";

const GiB = 1024 ** 3;

describe("overlaySizeBytes", () => {
  it("defaults to the larger of the base and 4 GiB", () => {
    expect(overlaySizeBytes(GiB, undefined)).toBe(DEFAULT_DISK_SIZE_GIB * GiB);
    expect(overlaySizeBytes(6 * GiB, undefined)).toBe(6 * GiB);
  });

  it("honours a request and refuses one smaller than the base", () => {
    expect(overlaySizeBytes(GiB, 8)).toBe(8 * GiB);
    expect(() => overlaySizeBytes(2 * GiB, 1)).toThrow(/smaller than the base/);
  });
});
