import { describe, expect, it } from "vitest";
import type { StatsResponse, VersionResponse } from "../../api/index.js";
import { cpuBusy, type NodeView } from "./node-view.js";
import { logSummary, renderDashboard } from "./render.js";
import { ansiFrame, isQuitKey } from "./terminal.js";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

function view(node: string, over: Partial<NodeView> = {}): NodeView {
  const version = { osVersion: "0.1.0", hostname: `host-${node}`, bootedSlot: "B", uptimeSeconds: 3725, maintenance: false, runtimeMode: "metal", bootId: "b1" } as VersionResponse;
  const stats = { memory: { total: 512 * 1048576, available: 256 * 1048576, initRss: 80 * 1048576 }, cpu: { count: 2 }, load: { load1: 0.5, load5: 0.25, load15: 0.125 } } as StatsResponse;
  return {
    node,
    version,
    stats,
    cpuPercent: 42,
    services: [
      { id: "apid", state: "Running", health: "ok", message: "", pid: 1, restarts: 0, sinceUnixMs: 0 },
      { id: "log-shipper", state: "Running", health: "failing", message: "", pid: 1, restarts: 0, sinceUnixMs: 0 },
    ],
    events: Array.from({ length: 20 }, (_, i) => ({ id: `b1:${i}`, timeUnixMs: NOW - 1000 * (20 - i), type: `type.${i}`, message: `event ${i}`, fields: {} })),
    logs: Array.from({ length: 20 }, (_, i) => ({ service: "machined", timeUnixMs: NOW, level: "info", message: JSON.stringify({ level: 30, component: "api", msg: `log ${i}` }) })),
    lastOkAt: NOW,
    ...over,
  };
}

describe("renderDashboard", () => {
  it("shows version, hostname, slot, uptime, services, cpu, memory, and the newest events and logs", () => {
    const lines = renderDashboard([view("10.0.0.1:50000")], { width: 160, height: 50, now: NOW, intervalSeconds: 2 });
    const text = lines.map((l) => l.text).join("\n");
    expect(lines[0]).toEqual({ text: "Cairn dashboard  1/1 nodes answering  03:04:05 UTC  every 2s  q quits", style: "title" });
    expect(text).toContain("10.0.0.1:50000  host-10.0.0.1:50000  0.1.0  slot B  up 1h02m  configured  metal");
    expect(text).toMatch(/services {2}apid ok {2}log-shipper failing/);
    expect(lines.find((l) => l.text.includes("services"))?.style).toBe("bad");
    expect(text).toContain("cpu [####......]  42% of 2 cpus  load 0.50 0.25 0.13   mem [#####.....] 256/512 MiB  init 80 MiB");
    // The newest ones, oldest of them first: at most 10 of each on a tall screen.
    expect(text).toContain("event 19");
    expect(text).toContain("03:04:05 info  api: log 19");
    expect(text).not.toContain("event 9\n");
    expect(lines.length).toBeLessThanOrEqual(50);
  });

  it("shares the height between nodes, cuts lines to the width, and says what did not fit", () => {
    const views = ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1", "g:1"].map((n) => view(n));
    const lines = renderDashboard(views, { width: 40, height: 20, now: NOW, intervalSeconds: 2 });
    expect(lines.length).toBeLessThanOrEqual(20);
    for (const l of lines) expect(l.text.length).toBeLessThanOrEqual(40);
    expect(lines.at(-1)?.text).toMatch(/^… \d more node\(s\) do not fit/);
    expect(lines.filter((l) => l.style === "node").length).toBeGreaterThan(1);
  });

  it("marks an unreachable node, keeps its last data dimmed, and a never-seen node says so", () => {
    const lines = renderDashboard([view("a:1", { error: "unreachable: connect ECONNREFUSED", lastOkAt: NOW - 65_000 }), { node: "b:1", events: [], logs: [], error: "unreachable: x" }], {
      width: 120,
      height: 40,
      now: NOW,
      intervalSeconds: 2,
    });
    expect(lines[0]?.text).toMatch(/0\/2 nodes answering/);
    expect(lines.find((l) => l.text.includes("ECONNREFUSED"))).toEqual({ text: "  unreachable: connect ECONNREFUSED; data below from 1m05s ago", style: "bad" });
    expect(lines.find((l) => l.text.includes("services"))?.style).toBe("dim");
    expect(lines.map((l) => l.text)).toContain("b:1  (no answer yet)");
  });

  it("never lets a node's text move the cursor: control characters become spaces", () => {
    const evil = view("a:1", { events: [{ id: "x", timeUnixMs: NOW, type: "t", message: "\u001b[2Jgone\r", fields: {} }] });
    const text = renderDashboard([evil], { width: 120, height: 40, now: NOW, intervalSeconds: 2 }).map((l) => l.text).join("\n");
    expect(text).not.toContain("\u001b");
    expect(text).toContain(" [2Jgone ");
  });
});

describe("pieces", () => {
  it("cpuBusy is the busy share between two snapshots", () => {
    const s = (u: number, sys: number, idle: number) => ({ cpu: { count: 2, userSeconds: u, systemSeconds: sys, idleSeconds: idle, iowaitSeconds: 0 } }) as StatsResponse;
    expect(cpuBusy(s(10, 10, 80), s(13, 12, 85))).toBeCloseTo(50);
    expect(cpuBusy(s(0, 0, 0), s(0, 0, 0))).toBeUndefined();
  });
  it("logSummary reads pino JSON and keeps plain text", () => {
    expect(logSummary(JSON.stringify({ level: 40, msg: "m", component: "c" }), NOW)).toBe("03:04:05 warn  c: m");
    expect(logSummary("plain", NOW)).toBe("03:04:05 plain");
  });
  it("an ANSI frame addresses each row, resets styles and clears the rest", () => {
    const f = ansiFrame([{ text: "t", style: "title" }, { text: "x", style: "plain" }]);
    expect(f).toBe("\u001b[1;1H\u001b[7mt\u001b[0m\u001b[K\u001b[2;1Hx\u001b[0m\u001b[K\u001b[3;1H\u001b[J");
  });
  it("q, Q, Ctrl-C and Ctrl-D quit; other keys do not", () => {
    expect(["q", "Q", "\u0003", "\u0004"].every(isQuitKey)).toBe(true);
    expect(["x", "\r", " "].some(isQuitKey)).toBe(false);
  });
});
