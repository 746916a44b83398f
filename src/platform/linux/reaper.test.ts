import { spawn } from "node:child_process";
import { once } from "node:events";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { libc } from "./libc.js";
import { OrphanReaper, parseProcPidStat } from "./reaper.js";

const PR_SET_CHILD_SUBREAPER = 36;
const log = pino({ level: "silent" });

describe("parseProcPidStat", () => {
  it("handles comm with spaces and parentheses", () => {
    expect(parseProcPidStat("42 (my (odd) name) Z 1 42 42 0 -1 4194560")).toEqual({ pid: 42, state: "Z", ppid: 1 });
    expect(parseProcPidStat("junk")).toBeUndefined();
  });
});

// A child subreaper gets orphans the way PID 1 does, so this runs on any Linux host without root.
describe.skipIf(process.platform !== "linux")("OrphanReaper as a child subreaper", () => {
  it("reaps orphans and leaves Node's own children to libuv", async () => {
    expect(libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)).toBe(0);
    const reaper = new OrphanReaper(log);
    // The shell exits at once; its background sleeps become our orphans.
    const parent = reaper.trackChild(spawn("sh", ["-c", "sleep 0.2 & sleep 0.2 & exit 0"], { stdio: "ignore" }));
    // A tracked child that exits while sweeps run: its exit status must still reach Node.
    const own = reaper.trackChild(spawn("sh", ["-c", "sleep 0.4; exit 7"], { stdio: "ignore" }));
    const ownExit = once(own, "exit");
    await once(parent, "exit");
    const reaped: number[] = [];
    const deadline = Date.now() + 5000;
    while (reaped.length < 2 && Date.now() < deadline) {
      for (const r of reaper.sweep()) reaped.push(r.pid);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(reaped).toHaveLength(2);
    expect(reaped).not.toContain(own.pid);
    const [code] = await ownExit;
    expect(code).toBe(7);
    reaper.close();
  });

  it("start() sweeps on a timer and close() stops it", async () => {
    const reaper = new OrphanReaper(log, { intervalMs: 50 });
    reaper.start();
    reaper.start();
    const parent = reaper.trackChild(spawn("sh", ["-c", "sleep 0.1 & exit 0"], { stdio: "ignore" }));
    await once(parent, "exit");
    await new Promise((r) => setTimeout(r, 500));
    expect(reaper.sweep()).toEqual([]); // the timer already reaped it
    reaper.close();
    reaper.close();
  });
});
