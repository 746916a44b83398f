import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { httpGet } from "../../../src/workloads/registry/http.js";
import { pollUntil } from "./poll.js";

export interface Daemon {
  readonly output: () => string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no clean shutdown. */
  crash(): Promise<void>;
}

/** Why a real containerd cannot run here, or undefined when it can. */
export function containerdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (containerd, runc, overlay mounts)";
  for (const bin of ["/usr/bin/containerd", "/usr/sbin/runc", "/usr/bin/docker-registry", "/bin/busybox", "/usr/bin/htpasswd"]) {
    if (!existsSync(bin)) return `${bin} missing: bash hack/install-deps.sh`;
  }
  return undefined;
}

function startDaemon(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess } & Daemon {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  const keep = (c: Buffer): void => {
    out = (out + c.toString("utf8")).slice(-200_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => out,
    crash: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}

/**
 * A real containerd (Debian's) with its own root, state and socket under `dir`,
 * so it never touches a host containerd. The CRI plugin is disabled: Cairn
 * talks to containerd's own API only.
 */
export async function startContainerd(dir: string): Promise<Daemon & { socket: string }> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, "containerd.sock");
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    [
      "version = 2",
      `root = "${join(dir, "root")}"`,
      `state = "${join(dir, "state")}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = "${socket}"`,
      "[ttrpc]",
      `  address = "${socket}.ttrpc"`,
      "[debug]",
      '  address = ""',
      "",
    ].join("\n"),
  );
  const d = startDaemon("/usr/bin/containerd", ["--config", config]);
  await pollUntil("containerd socket", async () => (existsSync(socket) ? true : undefined), {
    timeoutMs: 30_000,
    describe: d.output,
    fatal: () => d.child.exitCode !== null,
  });
  return { ...d, socket };
}

/** Kills the shims of the containerd on `socket`: they outlive it, and name its socket on their command line. */
export function killShims(socket: string): void {
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(socket)) process.kill(Number(p), "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface RegistryOptions {
  /** Storage shared with another registry process (same images, other listener). */
  readonly dataDir?: string;
  /** Serve HTTPS with this certificate (signed by caPem) instead of plain HTTP. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  /** Require HTTP Basic auth (htpasswd, bcrypt by apache2-utils' htpasswd) for this one user. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
}

/** Debian's docker-registry (distribution 2.x) on a free port of 127.0.0.1, storage under `dir`. */
export async function startRegistry(dir: string, opts: RegistryOptions = {}): Promise<Daemon & { url: string; host: string }> {
  mkdirSync(dir, { recursive: true });
  const p = await freePort();
  const config = join(dir, "config.yml");
  const tlsLines: string[] = [];
  if (opts.tls) {
    writeFileSync(join(dir, "cert.pem"), opts.tls.certPem);
    writeFileSync(join(dir, "key.pem"), opts.tls.keyPem, { mode: 0o600 });
    tlsLines.push("  tls:", `    certificate: ${join(dir, "cert.pem")}`, `    key: ${join(dir, "key.pem")}`);
  }
  const authLines: string[] = [];
  if (opts.basicAuth) {
    const { username, password } = opts.basicAuth;
    writeFileSync(join(dir, "htpasswd"), execFileSync("htpasswd", ["-Bbn", username, password], { encoding: "utf8" }));
    authLines.push("auth:", "  htpasswd:", "    realm: cairn-test", `    path: ${join(dir, "htpasswd")}`);
  }
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${opts.dataDir ?? join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${p}`,
      ...tlsLines,
      ...authLines,
      "",
    ].join("\n"),
  );
  const d = startDaemon("/usr/bin/docker-registry", ["serve", config]);
  const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${p}`;
  const ca = opts.tls?.caPem;
  await pollUntil(
    "registry /v2/",
    async () => {
      const res = await httpGet(`${url}/v2/`, ca ? { ca } : {});
      res.body.resume();
      // With auth on, an anonymous /v2/ answers 401: the registry is up.
      return res.status === 200 || (opts.basicAuth && res.status === 401) ? true : undefined;
    },
    { timeoutMs: 30_000, describe: d.output, fatal: () => d.child.exitCode !== null },
  );
  return { ...d, url, host: `127.0.0.1:${p}` };
}
