import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { encodeSntpReply } from "../machinery/time/sntp-packet.js";
import { EventBus } from "./event-bus.js";
import { parseTimeServer, querySntp, TimeSync } from "./time-sync.js";

const log = pino({ level: "silent" });

/** A real SNTP responder on 127.0.0.1 whose clock runs `skewMs` ahead of ours. */
async function sntpServer(skewMs: number): Promise<{ addr: string; sock: Socket }> {
  const sock = createSocket("udp4");
  sock.on("message", (msg, from) => {
    const now = Date.now() + skewMs;
    sock.send(encodeSntpReply(msg, now, now), from.port, from.address);
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return { addr: `127.0.0.1:${(sock.address() as AddressInfo).port}`, sock };
}

const open: Socket[] = [];
afterEach(() => open.splice(0).forEach((s) => s.close()));

describe("SNTP client over real UDP", () => {
  it("parses server names with and without ports", () => {
    expect(parseTimeServer("pool.ntp.org")).toEqual({ host: "pool.ntp.org", port: 123 });
    expect(parseTimeServer("10.0.2.2:1123")).toEqual({ host: "10.0.2.2", port: 1123 });
    expect(parseTimeServer("fd00::1")).toEqual({ host: "fd00::1", port: 123 });
    expect(parseTimeServer("[fd00::1]:9")).toEqual({ host: "fd00::1", port: 9 });
  });

  it("measures the offset of a server 3 s ahead", async () => {
    const s = await sntpServer(3000);
    open.push(s.sock);
    const r = await querySntp(s.addr, 2000);
    expect(r.offsetMs).toBeGreaterThan(2900);
    expect(r.offsetMs).toBeLessThan(3100);
    expect(r.delayMs).toBeGreaterThanOrEqual(0);
  });

  it("steps the clock by the offset, reports synced, and falls over to the next server", async () => {
    const s = await sntpServer(-5000);
    open.push(s.sock);
    const dead = createSocket("udp4"); // bound, never answers
    await new Promise<void>((r) => dead.bind(0, "127.0.0.1", r));
    open.push(dead);
    const steps: number[] = [];
    const events = new EventBus("b");
    const sync = new TimeSync({ setClock: async (ms) => void steps.push(ms - Date.now()), events, log, timeoutMs: 300 });
    sync.configure([`127.0.0.1:${(dead.address() as AddressInfo).port}`, s.addr]);
    try {
      for (let i = 0; i < 100 && !sync.status.synced; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sync.status).toMatchObject({ synced: true, server: s.addr, stratum: 1, steps: 1, lastError: "" });
      expect(sync.status.offsetSeconds).toBeCloseTo(-5, 0);
      expect(steps[0]).toBeGreaterThan(-5100);
      expect(steps[0]).toBeLessThan(-4900);
      expect(events.replay({ tail: 10 }).map((e) => e.type)).toEqual(["time.synced"]);
    } finally {
      sync.close();
    }
  });

  it("reports the error when no server answers", async () => {
    const dead = createSocket("udp4");
    await new Promise<void>((r) => dead.bind(0, "127.0.0.1", r));
    open.push(dead);
    const sync = new TimeSync({ setClock: async () => undefined, events: new EventBus("b"), log, timeoutMs: 100 });
    sync.configure([`127.0.0.1:${(dead.address() as AddressInfo).port}`]);
    try {
      for (let i = 0; i < 100 && !sync.status.lastError; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sync.status.synced).toBe(false);
      expect(sync.status.lastError).toMatch(/no answer within 100 ms/);
    } finally {
      sync.close();
    }
  });
});
