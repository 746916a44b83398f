import { describe, expect, it } from "vitest";
import { ipBytes, subjectAltNames } from "./subject-alt-names.js";

describe("ipBytes", () => {
  it.each([
    ["10.5.0.2", [10, 5, 0, 2]],
    ["::1", [...Array<number>(15).fill(0), 1]],
    ["::", Array<number>(16).fill(0)],
    ["fd00::1:2", [0xfd, 0, ...Array<number>(10).fill(0), 0, 1, 0, 2]],
    ["2001:db8:0:0:0:0:0:ff", [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(10).fill(0), 0, 0xff]],
    ["::ffff:10.0.0.1", [...Array<number>(10).fill(0), 0xff, 0xff, 10, 0, 0, 1]],
  ])("encodes %s", (ip, bytes) => {
    expect(ipBytes(ip)).toEqual(bytes);
  });

  it.each(["", "1.2.3", "300.1.1.1", "fe80::1%eth0", "::g", "localhost"])("rejects %j", (ip) => {
    expect(() => ipBytes(ip)).toThrow(/not an IP address/);
  });
});

describe("subjectAltNames", () => {
  it("keeps DNS names first, then IPs, in order", () => {
    expect(subjectAltNames(["a.example", "*.b.example"], ["1.2.3.4"])).toEqual([
      { type: 2, value: "a.example" },
      { type: 2, value: "*.b.example" },
      { type: 7, value: "\x01\x02\x03\x04" },
    ]);
  });

  it("rejects DNS names with spaces or empty labels", () => {
    expect(() => subjectAltNames(["a..b"], [])).toThrow(/not a DNS name/);
    expect(() => subjectAltNames([""], [])).toThrow(/not a DNS name/);
  });
});
