import { copyFileSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { KernelInput } from "./kernel-input.js";
import { run } from "./exec.js";
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

/**
 * The one top-level directory holding everything that changes per build.
 * The image is a cached base with this directory appended (squashfs.ts);
 * mksquashfs merges an append only at the top level and renames clashes,
 * so no other top-level name may hold per-build files.
 */
export const VERSION_DIR = "/cairn";

/**
 * Per-build files inside VERSION_DIR, and the fixed path (in IMAGE_PATHS)
 * that the base links to each: stage 1, machined and tools keep using the
 * fixed paths. nodeModules is a link back, so the entry's
 * `require("koffi")`, resolved from the entry's real path, still finds
 * /usr/lib/cairn/node_modules.
 */
export const VERSIONED_PATHS = {
  entry: `${VERSION_DIR}/machined.mjs`,
  buildJson: `${VERSION_DIR}/build.json`,
  osRelease: `${VERSION_DIR}/os-release`,
  nodeModulesLink: `${VERSION_DIR}/node_modules`,
} as const;

/**
 * Symlinks in the base, as [fixed path, in-image target] pairs: the fixed
 * paths resolve into VERSION_DIR, which only the appended part holds.
 */
export const BASE_LINKS = [
  [IMAGE_PATHS.entry, VERSIONED_PATHS.entry],
  [IMAGE_PATHS.buildJson, VERSIONED_PATHS.buildJson],
  [IMAGE_PATHS.osRelease, VERSIONED_PATHS.osRelease],
] as const;

/** The relative symlink text at in-image `imagePath` that points to in-image `target`. */
export function linkText(imagePath: string, target: string): string {
  return relative(dirname(imagePath), target);
}

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

/** Everything in the version-independent base of the root file system. */
export interface BaseInputs {
  readonly kernel: KernelInput;
  readonly node: NodeInput;
  readonly libs: readonly SharedLib[];
  /** Host programs shipped as they are (the container runtime), at their image paths. */
  readonly binaries: readonly { hostPath: string; imagePath: string }[];
  /** Files for /usr/lib/cairn/node_modules (koffi, package data files), relative to it. */
  readonly nodeModules: readonly { hostPath: string; imageRel: string }[];
  /** Trusted release public keys, by key id. */
  readonly releaseKeys: readonly { keyId: string; pem: string }[];
}

/** The per-build files: the bundled entry and the version. */
export interface VersionedInputs {
  /** The bundled entry (machined.mjs) on the host. */
  readonly entryBundle: string;
  readonly build: BuildInfo;
}

function put(tree: string, imagePath: string, from: string | { text: string }, mode = 0o644): void {
  const dst = join(tree, imagePath);
  mkdirSync(dirname(dst), { recursive: true });
  if (typeof from === "string") copyFileSync(from, dst);
  else writeFileSync(dst, from.text);
  chmodSync(dst, mode);
}

/** Creates `imagePath` in `tree` as a relative symlink to the in-image path `target`. */
function link(tree: string, imagePath: string, target: string): void {
  const dst = join(tree, imagePath);
  mkdirSync(dirname(dst), { recursive: true });
  symlinkSync(linkText(imagePath, target), dst);
}

/**
 * Lays out the version-independent base in `tree` (wiped first): Node and
 * its libraries, the container runtime (containerd, shim, runc), koffi, kernel modules with modules.dep, the trusted
 * release keys, empty mount points, and symlinks from the fixed entry,
 * build.json and os-release paths into VERSION_DIR, which the base lacks.
 * Nothing else: no shell, no coreutils, no package manager.
 */
export function stageBase(tree: string, inp: BaseInputs): void {
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  for (const m of MOUNT_POINTS) mkdirSync(join(tree, m), { recursive: true });
  put(tree, IMAGE_PATHS.node, inp.node.bin, 0o755);
  for (const lib of inp.libs) put(tree, lib.imagePath, lib.hostPath, 0o755);
  for (const b of inp.binaries) put(tree, b.imagePath, b.hostPath, 0o755);
  for (const f of inp.nodeModules) {
    const dest = `${IMAGE_PATHS.nodeModules}/${f.imageRel}`;
    put(tree, dest, f.hostPath);
    // koffi ships its addon with symbols: stripping it saves 0.7 MB (0.14 MB packed).
    if (dest.endsWith(".node")) run("strip", ["--strip-unneeded", join(tree, dest)]);
  }
  stageModules(inp.kernel, ROOTFS_MODULES, tree, IMAGE_PATHS.modulesLoad, { depmod: true });
  for (const k of inp.releaseKeys) put(tree, `${IMAGE_PATHS.releaseKeys}/${k.keyId}.pem`, { text: k.pem });
  put(tree, "/etc/hosts", { text: "127.0.0.1 localhost\n::1 localhost\n" });
  // The root is read-only: machined writes the resolver config under /run.
  symlinkSync("../run/cairn/resolv.conf", join(tree, "etc", "resolv.conf"));
  for (const [path, target] of BASE_LINKS) link(tree, path, target);
}

/**
 * Lays out the per-build part in `tree` (wiped first): only VERSION_DIR,
 * with the entry, build.json, os-release and the node_modules link.
 */
export function stageVersioned(tree: string, inp: VersionedInputs): void {
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  put(tree, VERSIONED_PATHS.entry, inp.entryBundle);
  const { version } = inp.build;
  put(tree, VERSIONED_PATHS.osRelease, {
    text: `NAME="Cairn"\nID=cairn\nVERSION_ID=${version}\nVERSION="${version}"\nPRETTY_NAME="Cairn ${version}"\n`,
  });
  put(tree, VERSIONED_PATHS.buildJson, { text: `${JSON.stringify(inp.build, null, 2)}\n` });
  link(tree, VERSIONED_PATHS.nodeModulesLink, IMAGE_PATHS.nodeModules);
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
