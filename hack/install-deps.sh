#!/usr/bin/env bash
# Installs every Debian package Cairn needs to build, test and boot images.
# Idempotent: packages already present are left alone; CI runs it on a fresh
# Debian 12 machine before anything else.
set -euo pipefail

PACKAGES=(
  # proto generation; libprotobuf-dev brings google/protobuf/*.proto (Any, Timestamp,
  # descriptor) that the vendored containerd protos import
  protobuf-compiler libprotobuf-dev
  # image builder: stage 1 (static C), rootfs, EFI and ext4 partitions, GPT
  gcc libc6-dev binutils
  squashfs-tools erofs-utils
  mtools dosfstools gdisk e2fsprogs
  kmod zstd cpio
  systemd-boot-efi
  # QEMU end-to-end tests (UEFI firmware, qcow2 overlays)
  qemu-system-x86 qemu-utils ovmf
  # workloads integration tests (test/integration/workloads*): a real containerd
  # + runc, a real OCI registry, and busybox-static as the test image's payload
  # (host only: busybox must never enter the Cairn image)
  containerd runc docker-registry busybox-static
  # htpasswd (bcrypt) for the registry that requires a username and password
  apache2-utils
  # TLS audit: the real TLS client (openssl s_client)
  openssl
  # fleet reboot coordination tests (test/integration/fleet-*): a real etcd, started per test file
  etcd-server
  # nodectl dashboard tests: a real terminal to draw in (capture-pane, send-keys)
  tmux
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
