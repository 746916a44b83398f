import { describe, expect, it } from "vitest";
import { objectId, time, tlv, unsignedInteger } from "./der.js";

describe("der", () => {
  it("encodes long lengths in the minimal long form", () => {
    expect(tlv(0x04, Buffer.alloc(5)).subarray(0, 2)).toEqual(Buffer.from([0x04, 5]));
    expect(tlv(0x04, Buffer.alloc(200)).subarray(0, 3)).toEqual(Buffer.from([0x04, 0x81, 200]));
    expect(tlv(0x04, Buffer.alloc(300)).subarray(0, 4)).toEqual(Buffer.from([0x04, 0x82, 0x01, 0x2c]));
  });

  it("encodes object identifiers with multi-byte arcs", () => {
    expect(objectId("1.2.840.10045.4.3.2").toString("hex")).toBe("06082a8648ce3d040302");
  });

  it("keeps integers positive and minimal", () => {
    expect(unsignedInteger(Buffer.from([0x80])).toString("hex")).toBe("02020080");
    expect(unsignedInteger(Buffer.from([0, 0, 0x7f])).toString("hex")).toBe("02017f");
  });

  it("writes UTCTime before 2050 and GeneralizedTime after", () => {
    expect(time(new Date("2026-11-25T23:00:01Z")).subarray(2).toString()).toBe("261125230001Z");
    expect(time(new Date("2051-01-02T03:04:05Z")).subarray(2).toString()).toBe("20510102030405Z");
  });
});
