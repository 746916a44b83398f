import { describe, expect, it } from "vitest";
import { compareSemver, parseSemver } from "./semver.js";

describe("semver", () => {
  it("orders by major, minor, patch numerically", () => {
    expect(compareSemver("0.2.0", "0.1.0")).toBeGreaterThan(0);
    expect(compareSemver("0.10.0", "0.9.9")).toBeGreaterThan(0);
    expect(compareSemver("1.0.0", "1.0.0")).toBe(0);
    expect(compareSemver("1.0.0+build.5", "1.0.0")).toBe(0);
    expect(compareSemver("1.2.3", "1.2.4")).toBeLessThan(0);
  });

  it("puts pre-releases before their release and orders them by identifiers", () => {
    expect(compareSemver("1.0.0-rc.1", "1.0.0")).toBeLessThan(0);
    expect(compareSemver("1.0.0-alpha", "1.0.0-alpha.1")).toBeLessThan(0);
    expect(compareSemver("1.0.0-rc.2", "1.0.0-rc.10")).toBeLessThan(0);
    expect(compareSemver("1.0.0-1", "1.0.0-alpha")).toBeLessThan(0);
  });

  it("refuses what is not a version", () => {
    expect(() => parseSemver("latest")).toThrow(/not a semantic version/);
    expect(() => parseSemver("1.2")).toThrow();
  });
});
