import { copyFileSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./exec.js";
import { findForbidden } from "./forbidden-files.js";
import type { KernelInput } from "./kernel-input.js";
import { stageModules } from "./kernel-modules.js";
import type { NodeInput } from "./node-input.js";
import { ROOTFS_MODULES } from "./pins.js";
import type { SharedLib } from "./shared-libs.js";

/** Where machined finds things at run time (documented in docs/image.md). */
export const IMAGE_PATHS = {
  node: "/usr/bin/node",
  entry: "/usr/lib/cairn/machined.mjs",
  buildJson: "/usr/lib/cairn/build.json",
  nodeModules: "/usr/lib/cairn/node_modules",
  osRelease: "/etc/os-release",
  releaseKeys: "/etc/cairn/release-keys",
  modulesLoad: "/etc/cairn/modules-load",
} as const;

/** Empty directories the running system mounts over (the root itself stays read-only). */
export const MOUNT_POINTS = ["/proc", "/sys", "/dev", "/run", "/tmp", "/var", "/system/state", "/boot/efi"] as const;

/** Contents of /usr/lib/cairn/build.json: what machined reports as its build. */
export interface BuildInfo {
  readonly version: string;
  readonly buildId: string;
  readonly arch: string;
  readonly kernel: string;
  readonly node: string;
}

/** Everything that goes into one root file system. */
export interface RootfsInputs {
  readonly kernel: KernelInput;
  readonly node: NodeInput;
  readonly libs: readonly SharedLib[];
  /** The bundled entry (machined.mjs) on the host. */
  readonly entryBundle: string;
  /** Files for /usr/lib/cairn/node_modules (koffi, package data files), relative to it. */
  readonly nodeModules: readonly { hostPath: string; imageRel: string }[];
  readonly build: BuildInfo;
  /** Trusted release public keys, by key id. */
  readonly releaseKeys: readonly { keyId: string; pem: string }[];
}

function put(tree: string, imagePath: string, from: string | { text: string }, mode = 0o644): void {
  const dst = join(tree, imagePath);
  mkdirSync(dirname(dst), { recursive: true });
  if (typeof from === "string") copyFileSync(from, dst);
  else writeFileSync(dst, from.text);
  chmodSync(dst, mode);
}

/**
 * Lays out the root file system in `tree` (wiped first): Node and its
 * libraries, the bundled entry and koffi, kernel modules with modules.dep,
 * os-release, build.json, the trusted release keys and empty mount points.
 * Nothing else: no shell, no coreutils, no package manager.
 */
export function stageRootfs(tree: string, inp: RootfsInputs): void {
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  for (const m of MOUNT_POINTS) mkdirSync(join(tree, m), { recursive: true });
  put(tree, IMAGE_PATHS.node, inp.node.bin, 0o755);
  for (const lib of inp.libs) put(tree, lib.imagePath, lib.hostPath, 0o755);
  put(tree, IMAGE_PATHS.entry, inp.entryBundle);
  for (const f of inp.nodeModules) put(tree, `${IMAGE_PATHS.nodeModules}/${f.imageRel}`, f.hostPath);
  stageModules(inp.kernel, ROOTFS_MODULES, tree, IMAGE_PATHS.modulesLoad, { depmod: true });
  const { version } = inp.build;
  put(tree, IMAGE_PATHS.osRelease, {
    text: `NAME="Cairn"\nID=cairn\nVERSION_ID=${version}\nVERSION="${version}"\nPRETTY_NAME="Cairn ${version}"\n`,
  });
  put(tree, IMAGE_PATHS.buildJson, { text: `${JSON.stringify(inp.build, null, 2)}\n` });
  for (const k of inp.releaseKeys) put(tree, `${IMAGE_PATHS.releaseKeys}/${k.keyId}.pem`, { text: k.pem });
  put(tree, "/etc/hosts", { text: "127.0.0.1 localhost\n::1 localhost\n" });
  // The root is read-only: machined writes the resolver config under /run.
  symlinkSync("../run/cairn/resolv.conf", join(tree, "etc", "resolv.conf"));
}

/** Every path in the tree as it appears in the image, sorted; directories end in "/". */
export function listTree(tree: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const isDir = lstatSync(p).isDirectory();
      out.push(`${prefix}/${name}${isDir ? "/" : ""}`);
      if (isDir) walk(p, `${prefix}/${name}`);
    }
  };
  walk(tree, "");
  return out.sort();
}

/**
 * Packs the tree into a read-only squashfs (zstd level 9, 128 KiB blocks,
 * root-owned, fixed timestamps). Level 9 is ~1.6 s for ~40 MB; level 15+
 * saves 3 MB for 35 s more per build (measured, docs/image.md). Refuses a
 * tree that contains a forbidden program.
 */
export function makeSquashfs(tree: string, out: string, files: readonly string[]): void {
  const bad = findForbidden(files);
  if (bad.length) throw new Error(`root file system must not contain ${bad.join(", ")}`);
  rmSync(out, { force: true });
  run("mksquashfs", [
    tree, out, "-comp", "zstd", "-Xcompression-level", "9", "-b", "131072",
    "-all-root", "-no-xattrs", "-noappend", "-mkfs-time", "0", "-all-time", "0", "-quiet", "-no-progress",
  ]);
}
