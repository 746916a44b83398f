import { createSocket } from "node:dgram";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../log/index.js";
import { LogStore } from "../log-store.js";
import { parseLogEndpoint } from "./endpoint.js";
import { toJsonLine } from "./json-line.js";
import { LogShipper } from "./log-shipper.js";
import { TcpLogSender } from "./tcp-sender.js";
import { UdpLogSender } from "./udp-sender.js";

// Real loopback sockets: a TCP collector that can go away and come back, and a UDP one.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A TCP collector on loopback that keeps every line it receives. */
async function tcpCollector(port = 0): Promise<{ server: Server; port: number; lines: string[]; sockets: Set<Socket>; close: () => Promise<void> }> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = "";
    s.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
    });
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  cleanups.push(close);
  return { server, port: (server.address() as AddressInfo).port, lines, sockets, close };
}

const quiet = createLogger({ level: "silent" });

describe("parseLogEndpoint", () => {
  it("splits transport, host and port, IPv6 without brackets", () => {
    expect(parseLogEndpoint("tcp://10.0.2.2:5170")).toMatchObject({ transport: "tcp", host: "10.0.2.2", port: 5170 });
    expect(parseLogEndpoint("udp://[::1]:514")).toMatchObject({ transport: "udp", host: "::1", port: 514 });
    expect(parseLogEndpoint("tcp://logs.example:1")).toMatchObject({ host: "logs.example", port: 1 });
  });
  it("names the endpoint when the port is out of range or the scheme unknown", () => {
    expect(() => parseLogEndpoint("tcp://h:70000")).toThrow(/"tcp:\/\/h:70000".*1-65535/);
    expect(() => parseLogEndpoint("http://h:80")).toThrow(/http:\/\/h:80/);
  });
});

describe("toJsonLine", () => {
  it("ships time, node, service, level and msg first, then the logged fields", () => {
    const raw = JSON.stringify({ level: 40, time: 1_700_000_000_000, pid: 1, component: "config", msg: "applied", node: "spoof" });
    const rec = JSON.parse(toJsonLine({ service: "machined", timeUnixMs: 1_700_000_000_000, level: "warn", message: raw }, "node1")) as Record<string, unknown>;
    expect(rec).toEqual({ time: "2023-11-14T22:13:20.000Z", node: "node1", service: "machined", level: "warn", msg: "applied", component: "config" });
    expect(Object.keys(rec).slice(0, 5)).toEqual(["time", "node", "service", "level", "msg"]);
  });
  it("keeps a plain-text line as msg and truncates a huge one", () => {
    const rec = JSON.parse(toJsonLine({ service: "svc", timeUnixMs: 0, level: "", message: "x".repeat(100_000) }, "n")) as { msg: string; level: string };
    expect(rec.level).toBe("info");
    expect(rec.msg.length).toBeLessThan(17_000);
    expect(rec.msg).toMatch(/…\[truncated\]$/);
  });
});

describe("TcpLogSender", () => {
  it("delivers lines in order, survives a collector restart and reconnects with backoff", async () => {
    const c1 = await tcpCollector();
    const sender = new TcpLogSender(parseLogEndpoint(`tcp://127.0.0.1:${c1.port}`), { minBackoffMs: 20, maxBackoffMs: 200 });
    cleanups.push(() => sender.close(100));
    for (let i = 0; i < 100; i++) sender.send(`{"n":${i}}`);
    await until("100 lines", () => c1.lines.length >= 100);
    expect(c1.lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([...Array(100).keys()]);
    expect(sender.status()).toMatchObject({ state: "connected", sent: 100, dropped: 0, queued: 0 });

    // The collector goes away: the sender notices, queues, and reconnects when it is back on the same port.
    const port = c1.port;
    await c1.close();
    await until("disconnect noticed", () => sender.status().state !== "connected");
    for (let i = 0; i < 10; i++) sender.send(`{"later":${i}}`);
    expect(sender.status().queued).toBe(10);
    const c2 = await tcpCollector(port);
    await until("queued lines after reconnect", () => c2.lines.length >= 10);
    expect(c2.lines).toEqual([...Array(10).keys()].map((i) => `{"later":${i}}`));
    expect(sender.status()).toMatchObject({ state: "connected", dropped: 0 });
  });

  it("never holds more than its queue bound while the collector is away, and counts what it dropped", async () => {
    // A port nobody listens on: bind, note, close.
    const gone = await tcpCollector();
    await gone.close();
    const notices: string[] = [];
    const sender = new TcpLogSender(parseLogEndpoint(`tcp://127.0.0.1:${gone.port}`), { maxQueueBytes: 1000, minBackoffMs: 10_000, onNotice: (n) => notices.push(n) });
    cleanups.push(() => sender.close(10));
    const line = "y".repeat(99); // 100 bytes with the newline
    for (let i = 0; i < 50; i++) sender.send(line);
    expect(sender.status()).toMatchObject({ queued: 10, dropped: 40, sent: 0 });
    expect(notices).toEqual(["dropping"]); // one notice per episode, not per line
    await until("the refused connect", () => sender.status().state === "backoff");
    expect(sender.status().lastError).toMatch(/ECONNREFUSED/);
  });

  it("a collector that stops reading fills the bounded queue, not PID 1's memory", async () => {
    // The collector accepts and never reads: the kernel buffers fill, then ours, then drops begin.
    const held = new Set<Socket>();
    const server = createServer((s) => void held.add(s.pause()));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => (held.forEach((s) => s.destroy()), server.close(() => r()))));
    const port = (server.address() as AddressInfo).port;
    const sender = new TcpLogSender(parseLogEndpoint(`tcp://127.0.0.1:${port}`), { maxQueueBytes: 64 * 1024 });
    cleanups.push(() => sender.close(10));
    await until("connected", () => sender.status().state === "connected");
    const line = "z".repeat(1023);
    for (let round = 0; round < 200 && sender.status().dropped === 0; round++) {
      for (let i = 0; i < 256; i++) sender.send(line);
      await sleep(5);
    }
    const s = sender.status();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.queued * 1024).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("UdpLogSender", () => {
  it("sends one datagram per line", async () => {
    const got: string[] = [];
    const server = createSocket("udp4");
    server.on("message", (m) => got.push(m.toString("utf8")));
    await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const sender = new UdpLogSender(parseLogEndpoint(`udp://127.0.0.1:${server.address().port}`));
    cleanups.push(() => sender.close());
    for (let i = 0; i < 5; i++) sender.send(`{"i":${i}}`);
    await until("5 datagrams", () => got.length >= 5);
    expect(got.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `{"i":${i}}\n`));
    await until("sent counted", () => sender.status().sent === 5);
  });
});

describe("LogShipper", () => {
  it("ships every log line of the store to TCP and UDP, and follows config changes live", async () => {
    const tcp = await tcpCollector();
    const udpGot: string[] = [];
    const udp = createSocket("udp4");
    udp.on("message", (m) => udpGot.push(m.toString("utf8").trimEnd()));
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => udp.close(() => r())));

    const store = new LogStore();
    const shipper = new LogShipper(store, { log: quiet });
    cleanups.push(() => shipper.close(100));
    // A pino logger writing into the store, as machined's does.
    const log = createLogger({ destination: store.sink("machined") });

    const tcpEp = `tcp://127.0.0.1:${tcp.port}`;
    const udpEp = `udp://127.0.0.1:${udp.address().port}`;
    log.info({ component: "early" }, "before any destination");
    shipper.configure([{ endpoint: tcpEp, format: "json_lines" }], "node-a");
    log.info({ component: "config", key: "secret-pem" }, "hello collector");
    store.append({ service: "timed", timeUnixMs: Date.now(), level: "", message: "plain text from a service" });
    await until("two lines over tcp", () => tcp.lines.length >= 2);
    const [first, second] = tcp.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ node: "node-a", service: "machined", level: "info", msg: "hello collector", component: "config", key: "[redacted]" });
    expect(second).toMatchObject({ node: "node-a", service: "timed", msg: "plain text from a service" });
    expect(tcp.lines.join("\n")).not.toMatch(/before any destination|secret-pem/);

    // Live change: add UDP, rename the node; TCP keeps its connection (no second accept).
    const accepted = tcp.sockets.size;
    shipper.configure(
      [
        { endpoint: tcpEp, format: "json_lines" },
        { endpoint: udpEp, format: "json_lines" },
      ],
      "node-b",
    );
    log.warn({}, "to both");
    await until("udp line", () => udpGot.find((l) => l.includes('"msg":"to both"')));
    await until("tcp line", () => tcp.lines.find((l) => l.includes('"msg":"to both"')));
    expect(JSON.parse(udpGot.find((l) => l.includes("to both"))!)).toMatchObject({ node: "node-b", level: "warn" });
    expect(tcp.sockets.size).toBe(accepted);

    // Removing every destination stops shipping.
    shipper.configure([], "node-b");
    expect(shipper.status()).toEqual([]);
    await until("tcp closed", () => tcp.sockets.size === 0);
    log.info({}, "after removal");
    await sleep(100);
    expect([...tcp.lines, ...udpGot].join("\n")).not.toMatch(/after removal/);
  });
});
