import { createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateRsaKey } from "./key-pair.js";

describe("generateRsaKey", () => {
  it("makes RSA 2048 keys natively (fast) that forge and node agree on", () => {
    const start = performance.now();
    for (let i = 0; i < 3; i++) generateRsaKey();
    // Pure-JS forge keygen takes seconds per key; native is well under this.
    expect(performance.now() - start).toBeLessThan(5000);

    const key = generateRsaKey();
    const node = createPrivateKey(key.privateKeyPem);
    expect(node.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(key.publicKey.n.bitLength()).toBe(2048);
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});
