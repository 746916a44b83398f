import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS, resolveValidity } from "./validity.js";

const now = new Date("2030-06-01T00:00:00Z");

describe("resolveValidity", () => {
  it("backdates the start for clock skew and counts days from now", () => {
    const v = resolveValidity({}, 10, now);
    expect(v.notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(v.notAfter).toEqual(new Date("2030-06-11T00:00:00Z"));
  });

  it("takes explicit bounds over days", () => {
    const notBefore = new Date("2020-01-01T00:00:00Z");
    const notAfter = new Date("2020-01-02T00:00:00Z");
    expect(resolveValidity({ validityDays: 5, notBefore, notAfter }, 10, now)).toEqual({ notBefore, notAfter });
  });

  it("rejects empty, inverted or invalid windows", () => {
    expect(() => resolveValidity({ validityDays: -1 }, 10, now)).toThrow(/validityDays/);
    expect(() => resolveValidity({ notAfter: new Date("2000-01-01") }, 10, now)).toThrow(/later than/);
    expect(() => resolveValidity({ notBefore: new Date("nope") }, 10, now)).toThrow(/valid dates/);
  });
});
