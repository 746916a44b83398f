// The two disk images the boot benchmark boots, and their sizes. Cairn's is
// built fresh by the imager (about 6-10 s with .cache/ warm); Debian's comes
// from hack/baseline-image.sh, which caches it under .cache/baseline/.
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** Sizes in bytes. `payload` is what one OS version ships: kernel + initramfs + root file system. */
export interface ImageSizes {
  /** Blocks the sparse raw image occupies on the host (du --block-size=1). */
  readonly rawAllocated: number;
  readonly rawApparent: number;
  readonly kernel: number;
  readonly initramfs: number;
  /** Cairn: the squashfs; Debian: bytes used by the root tree (du -sx before mkfs). */
  readonly rootfs: number;
  readonly payload: number;
}

export interface BuiltImage {
  readonly raw: string;
  readonly sizes: ImageSizes;
  readonly buildSeconds: number;
  readonly detail: Record<string, unknown>;
}

/** Runs a command with inherited stderr; rejects with the tail of its output on failure. */
function run(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${out.trim().split("\n").slice(-8).join(" | ")}`))));
  });
}

/** Allocated bytes of a (sparse) file: st_blocks x 512, what `du --block-size=1` prints. */
async function allocated(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

/** Builds dist/bench/cairn-<version>-amd64.raw with the imager and reads its build summary. */
export async function buildCairnImage(repoRoot: string, version: string): Promise<BuiltImage> {
  const out = join(repoRoot, "dist", "bench");
  const t0 = Date.now();
  await run(process.execPath, [join(repoRoot, "build", "cmd", "imager.js"), "--version", version, "--out", out], repoRoot);
  const summary = JSON.parse(await readFile(join(out, `cairn-${version}-amd64.json`), "utf8")) as {
    raw: string;
    sizes: { kernel: number; initramfs: number; rootfs: number; slotPayload: number; rawLength: number };
    build: Record<string, unknown>;
  };
  const s = summary.sizes;
  return {
    raw: summary.raw,
    buildSeconds: (Date.now() - t0) / 1000,
    sizes: { rawAllocated: await allocated(summary.raw), rawApparent: s.rawLength, kernel: s.kernel, initramfs: s.initramfs, rootfs: s.rootfs, payload: s.slotPayload },
    detail: { build: summary.build, payloadParts: "kernel + initramfs + squashfs rootfs (build summary sizes.slotPayload)" },
  };
}

/** Builds (or reuses) the Debian baseline with hack/baseline-image.sh. */
export async function buildDebianImage(repoRoot: string): Promise<BuiltImage> {
  const cache = join(repoRoot, ".cache", "baseline");
  const t0 = Date.now();
  await run("bash", [join(repoRoot, "hack", "baseline-image.sh"), cache], repoRoot);
  const summary = JSON.parse(await readFile(join(cache, "debian-12-baseline.json"), "utf8")) as {
    raw: string; kernelPackage: string; rawApparentBytes: number; kernelBytes: number; initrdBytes: number;
    rootfsUsedBytes: number; rootfsImageAllocatedBytes: number; packages: number; buildSeconds: Record<string, number>;
  };
  return {
    raw: summary.raw,
    buildSeconds: (Date.now() - t0) / 1000,
    sizes: {
      rawAllocated: await allocated(summary.raw),
      rawApparent: summary.rawApparentBytes,
      kernel: summary.kernelBytes,
      initramfs: summary.initrdBytes,
      rootfs: summary.rootfsUsedBytes,
      payload: summary.kernelBytes + summary.initrdBytes + summary.rootfsUsedBytes,
    },
    detail: {
      kernelPackage: summary.kernelPackage,
      packages: summary.packages,
      rootfsImageAllocated: summary.rootfsImageAllocatedBytes,
      cachedBuildSeconds: summary.buildSeconds,
      payloadParts: "kernel + initrd + root tree bytes (du -sx, uncompressed ext4 content)",
    },
  };
}
