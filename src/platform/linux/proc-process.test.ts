import { describe, expect, it } from "vitest";
import { parseCmdline, parsePidStat } from "./proc-process.js";

// Lines taken from a Cairn node under QEMU (PID 1 is node) and a host kernel thread.
const PID1 =
  "1 (node) S 0 0 0 0 -1 4194560 51813 0 2 0 1234 567 0 0 20 0 11 0 3 1154084864 21344 18446744073709551615 1 1 0 0 0 0 0 4096 17922 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";
const KTHREAD = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 4 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0";

describe("parsePidStat", () => {
  it("reads pid, comm, state, ppid, cpu ticks, threads, start and rss pages", () => {
    expect(parsePidStat(PID1)).toEqual({ pid: 1, comm: "node", state: "S", ppid: 0, cpuTicks: 1801, threads: 11, startTicks: 3, rssPages: 21344 });
    expect(parsePidStat(KTHREAD)).toMatchObject({ pid: 2, comm: "kthreadd", ppid: 0, cpuTicks: 3, rssPages: 0 });
  });

  it("keeps spaces and parentheses in comm (it runs to the last ')')", () => {
    const odd = PID1.replace("(node)", "(a) b (c)");
    expect(parsePidStat(odd)).toMatchObject({ pid: 1, comm: "a) b (c", state: "S", threads: 11 });
  });

  it("returns undefined for an empty or truncated file (the process exited)", () => {
    expect(parsePidStat("")).toBeUndefined();
    expect(parsePidStat("12 (x) S 1 2")).toBeUndefined();
  });
});

describe("parseCmdline", () => {
  it("joins NUL-separated arguments and drops the trailing NUL", () => {
    expect(parseCmdline("/usr/bin/node\0/opt/cairn/machined.js\0--mode\0metal\0")).toBe("/usr/bin/node /opt/cairn/machined.js --mode metal");
    expect(parseCmdline("")).toBe("");
  });
});
