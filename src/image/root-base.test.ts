import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { KernelInput } from "./kernel-input.js";
import { baseKey } from "./root-base.js";
import type { BaseInputs } from "./rootfs.js";

describe("root base cache key", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function inputs(): BaseInputs {
    dir = mkdtempSync(join(tmpdir(), "cairn-base-key-"));
    const lib = join(dir, "libc.so.6");
    writeFileSync(lib, "libc v1");
    return {
      kernel: {} as KernelInput,
      node: { version: "24.21.0", bin: join(dir, "node"), sizes: { unstripped: 2, stripped: 1 } },
      libs: [{ name: "libc.so.6", hostPath: lib, imagePath: "/lib/x86_64-linux-gnu/libc.so.6" }],
      binaries: [],
      nodeModules: [],
      releaseKeys: [{ keyId: "k1", pem: "PEM" }],
    };
  }

  it("is stable for the same inputs and code, and changes with library content, keys or code", () => {
    const inp = inputs();
    const k = baseKey(inp, ["code"]);
    expect(baseKey(inp, ["code"])).toBe(k);
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(baseKey(inp, ["code v2"])).not.toBe(k);
    expect(baseKey({ ...inp, releaseKeys: [{ keyId: "k2", pem: "PEM2" }] }, ["code"])).not.toBe(k);
    writeFileSync(inp.libs[0]!.hostPath, "libc v2");
    expect(baseKey(inp, ["code"])).not.toBe(k);
  });

  it("reads the staging code by default (the key is a pure function of inputs and sources)", () => {
    const inp = inputs();
    expect(baseKey(inp)).toBe(baseKey(inp));
  });
});
