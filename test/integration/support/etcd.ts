import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./node.js";
import { pollUntil } from "./poll.js";

/**
 * A real single-member etcd (Debian's etcd-server, hack/install-deps.sh)
 * on free loopback ports with a temporary data dir, for tests of the
 * fleet's reboot semaphore. stop() kills it and removes the data.
 */
export class EtcdServer {
  private constructor(
    readonly endpoint: string,
    private readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly out: string[],
  ) {}

  static async start(): Promise<EtcdServer> {
    const dir = mkdtempSync(join(tmpdir(), "cairn-etcd-"));
    const client = await freePort();
    const peer = await freePort();
    const c = `http://127.0.0.1:${client}`;
    const p = `http://127.0.0.1:${peer}`;
    const out: string[] = [];
    const proc = spawn("etcd", [
      "--name", "test", "--data-dir", join(dir, "data"),
      "--listen-client-urls", c, "--advertise-client-urls", c,
      "--listen-peer-urls", p, "--initial-advertise-peer-urls", p, "--initial-cluster", `test=${p}`,
      "--log-level", "warn",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    for (const s of [proc.stdout!, proc.stderr!]) s.on("data", (d: Buffer) => out.push(d.toString()));
    const server = new EtcdServer(c, proc, dir, out);
    let exited = false;
    proc.once("exit", () => (exited = true));
    await pollUntil("etcd to serve", async () => {
      if (exited) throw new Error(`etcd exited: ${out.join("")}`);
      const r = await fetch(`${c}/health`).catch(() => undefined);
      return r?.ok ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, describe: () => out.join(""), fatal: () => exited });
    return server;
  }

  output(): string {
    return this.out.join("");
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const gone = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGKILL");
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
