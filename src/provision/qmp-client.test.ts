import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QmpClient } from "./qmp-client.js";
import { QmpError } from "./qmp-error.js";

/** A tiny QMP server speaking the wire format QEMU 7.2 uses. */
function fakeQmp(path: string, onCommand: (cmd: { execute: string; id?: string; arguments?: unknown }, s: Socket) => void): Promise<Server> {
  const srv = createServer((s) => {
    s.write(`${JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 } }, capabilities: ["oob"] } })}\r\n`);
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl)) as { execute: string; id?: string };
        buf = buf.slice(nl + 1);
        if (cmd.execute === "qmp_capabilities") s.write(`${JSON.stringify({ return: {}, id: cmd.id })}\r\n`);
        else onCommand(cmd, s);
      }
    });
  });
  return new Promise((resolve) => srv.listen(path, () => resolve(srv)));
}

const reply = (s: Socket, o: unknown): boolean => s.write(`${JSON.stringify(o)}\r\n`);

describe("QmpClient", () => {
  let dir: string;
  let srv: Server | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "qmp-test-"))));
  afterEach(async () => {
    await new Promise((r) => (srv ? srv.close(r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("handshakes, returns results by id and ignores interleaved events", async () => {
    const sock = join(dir, "q.sock");
    srv = await fakeQmp(sock, (cmd, s) => {
      reply(s, { event: "RESET", data: { guest: false }, timestamp: { seconds: 1, microseconds: 2 } });
      reply(s, { return: { status: "running", running: true, singlestep: false }, id: cmd.id });
    });
    const c = await QmpClient.connect(sock);
    const events: string[] = [];
    c.on("event", (e) => events.push(e.event));
    expect(await c.queryStatus()).toMatchObject({ status: "running", running: true });
    expect(events).toEqual(["RESET"]);
    c.close();
    expect(c.closed).toBe(true);
  });

  it("throws a typed QmpError for an error answer", async () => {
    const sock = join(dir, "q.sock");
    srv = await fakeQmp(sock, (cmd, s) => reply(s, { error: { class: "CommandNotFound", desc: "The command nope has not been found" }, id: cmd.id }));
    const c = await QmpClient.connect(sock);
    const err = await c.execute("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpError);
    expect(err).toMatchObject({ code: "UNIMPLEMENTED", qmpClass: "CommandNotFound", command: "nope" });
    c.close();
  });

  it("waits for a socket that appears late, and treats a close after quit as success", async () => {
    const sock = join(dir, "late.sock");
    const connecting = QmpClient.connect(sock, { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 200));
    srv = await fakeQmp(sock, (_cmd, s) => s.destroy());
    const c = await connecting;
    await expect(c.quit()).resolves.toBeUndefined();
    await expect(c.execute("query-status")).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("gives up with UNAVAILABLE when no socket appears", async () => {
    await expect(QmpClient.connect(join(dir, "none.sock"), { timeoutMs: 200 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("resolves waitForEvent on the named event only", async () => {
    const sock = join(dir, "q.sock");
    srv = await fakeQmp(sock, (cmd, s) => {
      reply(s, { return: {}, id: cmd.id });
      reply(s, { event: "POWERDOWN", data: {}, timestamp: { seconds: 1, microseconds: 0 } });
      reply(s, { event: "SHUTDOWN", data: { guest: true }, timestamp: { seconds: 2, microseconds: 0 } });
    });
    const c = await QmpClient.connect(sock);
    const ev = c.waitForEvent("SHUTDOWN", 2000);
    await c.systemPowerdown();
    expect((await ev).data).toEqual({ guest: true });
    await expect(c.waitForEvent("NEVER", 50)).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    c.close();
  });
});
