import { describe, expect, it } from "vitest";
import { findFirmware } from "./firmware.js";

describe("findFirmware", () => {
  it("prefers the 4M pair when both exist", () => {
    expect(findFirmware({}, () => true).code).toBe("/usr/share/OVMF/OVMF_CODE_4M.fd");
  });

  it("falls back to the 2M names", () => {
    const fw = findFirmware({}, (p) => !p.includes("_4M"));
    expect(fw).toEqual({ code: "/usr/share/OVMF/OVMF_CODE.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS.fd" });
  });

  it("uses the env override and rejects a half-set one", () => {
    const env = { CAIRN_OVMF_CODE: "/c.fd", CAIRN_OVMF_VARS: "/v.fd" };
    expect(findFirmware(env, () => true)).toEqual({ code: "/c.fd", varsTemplate: "/v.fd" });
    expect(() => findFirmware({ CAIRN_OVMF_CODE: "/c.fd" }, () => true)).toThrow(/OVMF override/);
  });

  it("fails with an install hint when nothing is found", () => {
    expect(() => findFirmware({}, () => false)).toThrow(expect.objectContaining({ code: "FAILED_PRECONDITION", hint: expect.stringMatching(/ovmf/) }));
  });
});
