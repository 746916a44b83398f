import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";
import { writeBundle, type BundleManifest } from "../../../src/machinery/bundle/index.js";
import { nodectl, show } from "./nodectl.js";
import { pollUntil } from "./poll.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * A release repository as an operator runs one: a directory filled by the
 * real `nodectl release publish`, served byte for byte by a plain static
 * HTTP server on loopback, and bundles signed with the release key the way
 * the image builder signs them (writeBundle). Every request is logged, so a
 * test can tell which node downloaded what.
 */
export class ReleaseRepo {
  readonly keyPath: string;
  readonly publicKeyPem: string;
  readonly requests: { path: string; at: number }[] = [];
  private constructor(
    readonly dir: string,
    private readonly server: Server,
    readonly url: string,
    keyPath: string | undefined,
  ) {
    if (keyPath !== undefined) {
      this.keyPath = keyPath;
      this.publicKeyPem = createPublicKey(createPrivateKey(readFileSync(keyPath))).export({ type: "spki", format: "pem" }).toString();
      return;
    }
    const key = generateKeyPairSync("ed25519");
    this.keyPath = join(dir, "release.key.pem");
    writeFileSync(this.keyPath, key.privateKey.export({ type: "pkcs8", format: "pem" }));
    this.publicKeyPem = key.publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  /**
   * Serves `dir`/repo on a free loopback port. `keyPath`: sign with this
   * release key (default: a fresh one). `advertiseHost`: the host the
   * channel's bundle URLs name, e.g. 10.0.2.2, where a QEMU guest under user
   * networking reaches the host's loopback (default 127.0.0.1).
   */
  static async start(dir: string, opts: { keyPath?: string; advertiseHost?: string } = {}): Promise<ReleaseRepo> {
    const root = join(dir, "repo");
    mkdirSync(root, { recursive: true });
    let repo: ReleaseRepo | undefined;
    const server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
      repo?.requests.push({ path, at: Date.now() });
      const file = join(root, path);
      if (!file.startsWith(root + sep)) return void res.writeHead(403).end();
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        return void res.writeHead(404).end();
      }
      res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    repo = new ReleaseRepo(dir, server, `http://${opts.advertiseHost ?? "127.0.0.1"}:${port}`, opts.keyPath);
    return repo;
  }

  /** A signed bundle of `version` (small parts; a rootfs of ~200 kB). */
  async bundle(version: string): Promise<string> {
    const keyPem = readFileSync(this.keyPath, "utf8");
    const files = { kernel: join(this.dir, `${version}.kernel`), initramfs: join(this.dir, `${version}.initramfs`), rootfs: join(this.dir, `${version}.rootfs`) };
    writeFileSync(files.kernel, `kernel ${version}\n`);
    writeFileSync(files.initramfs, `initramfs ${version}\n`);
    writeFileSync(files.rootfs, Buffer.alloc(200_000, version));
    const parts = (["kernel", "initramfs", "rootfs"] as const).map((n) => ({ name: n, size: readFileSync(files[n]).length, sha256: sha(readFileSync(files[n])) }));
    const manifest: BundleManifest = { format: 1, version, arch: process.arch === "x64" ? "amd64" : process.arch, buildId: `it-${version}`, keyId: "it", parts };
    const path = join(this.dir, `cairn-${version}-amd64.bundle`);
    await writeBundle(path, manifest, files, createPrivateKey(keyPem));
    return path;
  }

  /** Builds and publishes `version` on `channel` with the real CLI. */
  async publish(version: string, channel = "stable"): Promise<void> {
    await this.publishBundle(await this.bundle(version), channel);
  }

  /** Publishes an existing signed bundle on `channel` with the real CLI. */
  async publishBundle(bundle: string, channel = "stable"): Promise<void> {
    const r = await nodectl(["release", "publish", "--repo", join(this.dir, "repo"), "--channel", channel, "--bundle", bundle, "--url-base", this.url, "--key", this.keyPath]);
    if (r.code !== 0) throw new Error(`publish ${bundle} failed\n${show(r)}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** One node event as machined logs it (component events): survives the reboots the Events RPC does not. */
export interface LoggedEvent {
  readonly type: string;
  readonly time: number;
  readonly id: string;
  readonly message: string;
  readonly fields: Record<string, string>;
}

/** The node events in a node's recorded output (pino JSON lines), oldest first. */
export function loggedEvents(output: string): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{") || !line.includes('"event"')) continue;
    try {
      const j = JSON.parse(line) as { event?: string; time?: number; id?: string; msg?: string; fields?: Record<string, string> };
      if (j.event && j.time !== undefined) out.push({ type: j.event, time: j.time, id: j.id ?? "", message: j.msg ?? "", fields: j.fields ?? {} });
    } catch {
      // a line cut by the recording boundary
    }
  }
  return out;
}

/**
 * The node's logged events once `ready` holds for them. machined's stdout
 * reaches the test on its own schedule, a little after an RPC answer that
 * already reflects the same step, so a test waits for the lines it needs.
 */
export async function eventsWhen(node: { recorded(): string }, what: string, ready: (ev: LoggedEvent[]) => boolean, timeoutMs = 10_000): Promise<LoggedEvent[]> {
  return pollUntil(what, async () => {
    const ev = loggedEvents(node.recorded());
    return ready(ev) ? ev : undefined;
  }, { timeoutMs, intervalMs: 100, describe: () => loggedEvents(node.recorded()).map((e) => e.type).join(" ") });
}
