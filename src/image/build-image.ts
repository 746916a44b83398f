import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BuildOptions } from "./args.js";
import { writeBundle, type BundleManifest } from "../machinery/bundle/index.js";
import { bundleEntry, nodeModulesFiles } from "./bundle-entry.js";
import { allocatedBytes, assembleDisk } from "./disk-image.js";
import { buildEfiPartition } from "./efi-partition.js";
import { sha256File } from "./exec.js";
import { ensureExt4 } from "./ext4-partition.js";
import { placePartitions } from "./gpt-layout.js";
import { ensureKernel } from "./kernel-input.js";
import { ensureNode } from "./node-input.js";
import { ARCH, CONTAINER_LIB_NAMES, CONTAINER_RUNTIME_BINARIES, NODE_LIB_NAMES } from "./pins.js";
import { ensureReleaseKey } from "./release-key.js";
import { ensureRootBase } from "./root-base.js";
import { listTree, stageVersioned, type BuildInfo } from "./rootfs.js";
import { resolveSharedLibs } from "./shared-libs.js";
import { appendSquashfs } from "./squashfs.js";
import { ensureInitramfs } from "./stage1.js";
import { StepTimer } from "./timings.js";

/** Paths and measured sizes of one build (also written as dist/cairn-X-amd64.json). */
export interface BuildResult {
  readonly build: BuildInfo;
  readonly raw: string;
  readonly bundle: string;
  readonly filesList: string;
  /** Slot payload files in the cache (for direct-kernel test boots). */
  readonly kernel: string;
  readonly initramfs: string;
  readonly sizes: Record<string, number>;
  readonly timings: string;
}

/**
 * Builds the raw disk image, the upgrade bundle and the file list for one
 * version. Everything version-independent (kernel, Node, initramfs, empty
 * ext4 images, the xz-packed base of the root file system) comes from the
 * cache, so a rebuild with a new version only bundles the entry, appends
 * it with the version files to a copy of the base, and packs the EFI
 * partition, the disk and the bundle.
 */
export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const t = new StepTimer();
  const cache = resolve(o.cacheDir);
  const name = `cairn-${o.version}-${ARCH}`;
  const out = resolve(o.outDir);
  mkdirSync(out, { recursive: true });
  mkdirSync(join(cache, "work"), { recursive: true });
  // One work dir per build: two builds of the same version (parallel e2e files) must not share one.
  const work = mkdtempSync(join(cache, "work", `${o.version}-`));

  const key = await t.step("release key", () => ensureReleaseKey(resolve(o.keysDir)));
  const kernel = await t.step("kernel input", () => ensureKernel(cache));
  const node = await t.step("node input", () => ensureNode(cache));
  const modules = nodeModulesFiles();
  const koffiNode = modules.find((f) => f.imageRel.endsWith(".node"))!.hostPath;
  const absent = CONTAINER_RUNTIME_BINARIES.filter((p) => !existsSync(p));
  if (absent.length) throw new Error(`container runtime missing on the build host: ${absent.join(", ")}: bash hack/install-deps.sh (Debian's containerd and runc)`);
  const binaries = CONTAINER_RUNTIME_BINARIES.map((p) => ({ hostPath: p, imagePath: p }));
  const libs = await t.step("shared libs", () => resolveSharedLibs([node.bin, koffiNode, ...CONTAINER_RUNTIME_BINARIES], [...NODE_LIB_NAMES, ...CONTAINER_LIB_NAMES]));
  const initramfs = await t.step("initramfs", () => ensureInitramfs(cache, kernel));
  const entryBundle = join(work, "machined.mjs");
  await t.step("esbuild entry", () => bundleEntry(resolve(o.entry), entryBundle));

  const build: BuildInfo = {
    version: o.version,
    buildId: `${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomBytes(4).toString("hex")}`,
    arch: ARCH,
    kernel: kernel.kver,
    node: node.version,
  };
  const tree = join(work, "rootfs");
  const squashfs = join(work, "rootfs.squashfs");
  const filesList = join(out, `${name}.files.txt`);
  const base = await t.step("rootfs base", () =>
    ensureRootBase(cache, { kernel, node, libs, binaries, nodeModules: modules, releaseKeys: [{ keyId: key.keyId, pem: key.publicKeyPem }] }),
  );
  await t.step("rootfs append", () => {
    stageVersioned(tree, { entryBundle, build });
    const files = [...base.files, ...listTree(tree)].sort();
    writeFileSync(filesList, `${files.join("\n")}\n`);
    copyFileSync(base.squashfs, squashfs);
    appendSquashfs(tree, squashfs, files);
    rmSync(tree, { recursive: true, force: true });
  });

  const layout = placePartitions(o.diskMiB);
  const part = (n: string) => layout.find((p) => p.name === n)!;
  const efi = join(work, "efi.vfat");
  await t.step("efi partition", () =>
    buildEfiPartition(efi, part("EFI").sizeBytes, { version: o.version, kernel: kernel.vmlinuz, initramfs }, work),
  );
  const state = await t.step("ext4 images", () => ensureExt4(cache, "STATE", part("STATE").sizeBytes));
  const ephemeral = ensureExt4(cache, "EPHEMERAL", part("EPHEMERAL").sizeBytes);
  const raw = join(out, `${name}.raw`);
  await t.step("raw disk", () =>
    assembleDisk(raw, o.diskMiB * 1024 * 1024, layout, { EFI: efi, "ROOT-A": squashfs, STATE: state, EPHEMERAL: ephemeral }),
  );

  const bundle = join(out, `${name}.bundle`);
  await t.step("signed bundle", async () => {
    const files = { kernel: kernel.vmlinuz, initramfs, rootfs: squashfs };
    const parts = await Promise.all(
      (["kernel", "initramfs", "rootfs"] as const).map(async (n) => ({ name: n, size: statSync(files[n]).size, sha256: await sha256File(files[n]) })),
    );
    const manifest: BundleManifest = { format: 1, version: o.version, arch: ARCH, buildId: build.buildId, keyId: key.keyId, parts };
    await writeBundle(bundle, manifest, files, key.privateKey);
  });

  const sizes = {
    kernel: statSync(kernel.vmlinuz).size,
    initramfs: statSync(initramfs).size,
    rootfs: statSync(squashfs).size,
    nodeUnstripped: node.sizes.unstripped,
    nodeStripped: node.sizes.stripped,
    entryBundle: statSync(entryBundle).size,
    slotPayload: statSync(kernel.vmlinuz).size + statSync(initramfs).size + statSync(squashfs).size,
    rawLength: statSync(raw).size,
    rawAllocated: allocatedBytes(raw),
    bundle: statSync(bundle).size,
  };
  // The per-version work files are all inside the raw disk and the bundle now.
  rmSync(work, { recursive: true, force: true });
  const result: BuildResult = { build, raw, bundle, filesList, kernel: kernel.vmlinuz, initramfs, sizes, timings: t.report() };
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ ...result, totalSeconds: t.totalMs() / 1000 }, null, 2)}\n`);
  return result;
}
