import { describe, expect, it } from "vitest";
import { parseKmsgRecord } from "./kmsg-record.js";

describe("parseKmsgRecord", () => {
  it("splits priority, facility, sequence and time", () => {
    expect(parseKmsgRecord("6,339,5140900,-;NET: Registered protocol family 10\n")).toEqual({
      seq: 339,
      facility: 0,
      priority: 6,
      monotonicUs: 5140900,
      message: "NET: Registered protocol family 10",
    });
  });

  it("decodes facility from pri and drops continuation lines", () => {
    const r = parseKmsgRecord("30,1000,99,c,extra;systemd[1]: started\n SUBSYSTEM=net\n DEVICE=n2\n");
    expect(r).toMatchObject({ facility: 3, priority: 6, seq: 1000, monotonicUs: 99, message: "systemd[1]: started" });
  });

  it("unescapes \\xNN bytes, including multi-byte UTF-8", () => {
    expect(parseKmsgRecord("4,1,2,-;tab\\x09here \\xc3\\xa9")?.message).toBe("tab\there é");
  });

  it("keeps semicolons inside the message", () => {
    expect(parseKmsgRecord("4,1,2,-;a;b")?.message).toBe("a;b");
  });

  it("rejects text that is not a record", () => {
    expect(parseKmsgRecord("garbage")).toBeUndefined();
    expect(parseKmsgRecord("x,1,2,-;m")).toBeUndefined();
    expect(parseKmsgRecord("1,2;m")).toBeUndefined();
  });
});
