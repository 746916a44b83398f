import { describe, expect, it } from "vitest";
import { chainIds, sha256Digest, verifyDigest } from "./digest.js";

describe("digests", () => {
  it("computes chain IDs as image-spec defines them", () => {
    const a = sha256Digest("a");
    const b = sha256Digest("b");
    const c = sha256Digest("c");
    const ids = chainIds([a, b, c]);
    expect(ids[0]).toBe(a);
    expect(ids[1]).toBe(sha256Digest(`${a} ${b}`));
    expect(ids[2]).toBe(sha256Digest(`${ids[1]} ${c}`));
  });

  it("names both digests when a blob does not match", () => {
    expect(() => verifyDigest(sha256Digest("x"), sha256Digest("y"), "layer 0")).toThrow(/layer 0: digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:/);
  });
});
