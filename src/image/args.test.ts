import { describe, expect, it } from "vitest";
import { parseImagerArgs } from "./args.js";

describe("parseImagerArgs", () => {
  it("applies defaults", () => {
    expect(parseImagerArgs(["--version", "0.2.0"])).toEqual({
      version: "0.2.0",
      entry: "cmd/machined.ts",
      outDir: "dist",
      cacheDir: ".cache",
      keysDir: "hack/.keys",
      diskMiB: 1024,
    });
  });

  it("rejects a missing or unsafe version and unknown flags", () => {
    expect(() => parseImagerArgs([])).toThrow(/--version is required/);
    expect(() => parseImagerArgs(["--version", "../x"])).toThrow(/--version/);
    expect(() => parseImagerArgs(["--version", "1", "--nope"])).toThrow();
  });
});
