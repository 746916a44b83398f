import { describe, expect, it } from "vitest";
import { parseLdd } from "./shared-libs.js";

describe("parseLdd", () => {
  it("reads arrow lines and the loader line, skipping the vDSO", () => {
    const libs = parseLdd(`	linux-vdso.so.1 (0x00007ffd)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc47dc1e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007fc47e1a1000)
`);
    expect([...libs]).toEqual([
      ["libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"],
      ["ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"],
    ]);
  });

  it("fails on a missing library", () => {
    expect(() => parseLdd("libfoo.so.1 => not found")).toThrow(/not found/);
  });
});
