import { describe, expect, it } from "vitest";
import { detectAccel } from "./accel.js";

describe("detectAccel", () => {
  it("honours CAIRN_ACCEL without probing", async () => {
    expect(await detectAccel({ env: { CAIRN_ACCEL: "kvm" }, qemuBinary: "/nonexistent" })).toBe("kvm");
    expect(await detectAccel({ env: { CAIRN_ACCEL: "tcg" }, qemuBinary: "/nonexistent" })).toBe("tcg");
  });

  it("rejects an unknown CAIRN_ACCEL", async () => {
    await expect(detectAccel({ env: { CAIRN_ACCEL: "hvf" } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("falls back to tcg within the bounded probe time when KVM cannot run a guest", async () => {
    // A missing QEMU binary behaves like a KVM that never shows guest output.
    const t = Date.now();
    expect(await detectAccel({ env: {}, qemuBinary: "/nonexistent/qemu", timeoutMs: 500, fresh: true })).toBe("tcg");
    expect(Date.now() - t).toBeLessThan(3000);
  });
});
