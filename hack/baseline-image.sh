#!/usr/bin/env bash
# Builds the Debian baseline VM of the boot benchmark (bench/boot, issue 3):
# a minimal Debian 12 (bookworm) with systemd, openssh-server, the same kernel
# package as Cairn (src/image/pins.ts KERNEL) and systemd-boot, on a UEFI GPT
# disk that launchNode boots with the same QEMU flags as a Cairn node.
#
# No loop mounts: debootstrap into a directory, `mkfs.ext4 -d` makes the root
# file system from it in a file, the ESP is a vfat file filled with mtools
# (systemd-boot from the chroot's systemd-boot-efi, the kernel and the initrd
# update-initramfs made in the chroot), `sgdisk` writes the table and `dd`
# places both file systems. Needs root (debootstrap, chroot).
#
# Usage: hack/baseline-image.sh [CACHE_DIR]   (default .cache/baseline)
# Output: CACHE_DIR/debian-12-baseline.raw and CACHE_DIR/debian-12-baseline.json
# (sizes). A finished image is reused: delete the directory to rebuild.
set -euo pipefail

cd "$(dirname "$0")/.."
CACHE="${1:-.cache/baseline}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
RAW="$CACHE/debian-12-baseline.raw"
SUMMARY="$CACHE/debian-12-baseline.json"
if [[ -f "$RAW" && -f "$SUMMARY" ]]; then
  echo "baseline: cached $RAW"
  exit 0
fi

# Same kernel package as Cairn, read from the pins so the two never drift.
KPKG="$(sed -n 's/^ *package: "\(linux-image-[^"]*\)".*/\1/p' src/image/pins.ts | head -1)"
KVER_PKG="$(awk '/^export const KERNEL/{f=1} f && /version:/{gsub(/[",]/,"",$2); print $2; exit}' src/image/pins.ts)"
KVER="$(awk '/^export const KERNEL/{f=1} f && /kver:/{gsub(/[",]/,"",$2); print $2; exit}' src/image/pins.ts)"
[[ -n "$KPKG" && -n "$KVER_PKG" && -n "$KVER" ]] || { echo "baseline: cannot read KERNEL from src/image/pins.ts" >&2; exit 1; }

ROOT="$CACHE/rootfs"
WORK="$CACHE/work"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOT_PARTUUID="6b1a3e2c-8d4f-4c1e-9a57-0c2a1f3b9e10"
t0=$(date +%s)

cleanup_mounts() {
  for m in proc sys dev/pts dev; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m" || true; done
}
trap cleanup_mounts EXIT

if [[ ! -f "$ROOT/.debootstrap-done" ]]; then
  rm -rf "$ROOT"
  echo "baseline: debootstrap bookworm (minbase + systemd, openssh-server, $KPKG=$KVER_PKG, systemd-boot)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,openssh-server,systemd-boot,systemd-boot-efi,initramfs-tools,zstd,kmod,ifupdown,iproute2 \
    bookworm "$ROOT" "$MIRROR"
  touch "$ROOT/.debootstrap-done"
fi
t_debootstrap=$(date +%s)

mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
in_root() { chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

if [[ ! -f "$ROOT/boot/vmlinuz-$KVER" ]]; then
  cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  in_root apt-get update -q
  # Debian's stock initramfs (MODULES=most, zstd); no firmware, no extra tools.
  in_root apt-get install -y -q --no-install-recommends "$KPKG=$KVER_PKG"
fi

# Identity and networking: DHCP on the first virtio NIC (user networking hands
# out 10.0.2.15), sshd on 22 with the host keys its postinst generated.
echo debian-baseline >"$ROOT/etc/hostname"
: >"$ROOT/etc/machine-id"
cat >"$ROOT/etc/fstab" <<EOF
PARTUUID=$ROOT_PARTUUID / ext4 defaults,errors=remount-ro 0 1
EOF
mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/20-wired.network" <<EOF
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
in_root systemctl enable systemd-networkd ssh >/dev/null 2>&1 || true
in_root systemctl disable ifupdown-pre networking >/dev/null 2>&1 || true
# Console markers for bench/boot: uptime once sshd is up (so the host can place
# kernel start on its clock) and memory once systemd reports the boot finished.
cat >"$ROOT/usr/local/sbin/baseline-report" <<'EOF'
#!/bin/sh
mem() { awk -v k="$1" '$1 == k":" {print $2}' /proc/meminfo; }
read -r up _ </proc/uptime
rss=$(awk '$1 == "VmRSS:" {print $2}' /proc/1/status)
echo "BASELINE-SSHD uptime=$up memTotalKiB=$(mem MemTotal) memAvailableKiB=$(mem MemAvailable) pid1RssKiB=$rss" >/dev/ttyS0
echo "BASELINE-NET $(ip -br -4 addr | tr -s ' \n' ' ')" >/dev/ttyS0
state=$(timeout 120 systemctl is-system-running --wait)
read -r up _ </proc/uptime
rss=$(awk '$1 == "VmRSS:" {print $2}' /proc/1/status)
[ "$state" = running ] || echo "BASELINE-FAILED $(systemctl --failed --no-legend --plain | tr -s ' \n' ' ') jobs: $(systemctl list-jobs --no-legend --plain | tr -s ' \n' ' ')" >/dev/ttyS0
echo "BASELINE-SETTLED uptime=$up state=$state memTotalKiB=$(mem MemTotal) memAvailableKiB=$(mem MemAvailable) pid1RssKiB=$rss" >/dev/ttyS0
EOF
chmod 755 "$ROOT/usr/local/sbin/baseline-report"
cat >"$ROOT/etc/systemd/system/baseline-report.service" <<'EOF'
[Unit]
Description=bench/boot console markers (uptime at sshd ready, memory after boot)
After=ssh.service
Wants=ssh.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/baseline-report

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable baseline-report >/dev/null 2>&1
in_root update-initramfs -u -k "$KVER" >/dev/null
cleanup_mounts
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"*_Packages 2>/dev/null || true
t_chroot=$(date +%s)

# File systems in files.
rm -rf "$WORK"; mkdir -p "$WORK"
ROOT_BYTES=$(du -sx --block-size=1 "$ROOT" | cut -f1)
ROOT_MIB=$(( ROOT_BYTES * 13 / 10 / 1048576 + 64 ))
ESP_MIB=128
truncate -s "${ROOT_MIB}M" "$WORK/root.ext4"
mkfs.ext4 -q -F -L debian-root -E lazy_itable_init=1,lazy_journal_init=1 -d "$ROOT" "$WORK/root.ext4"

EFI_STUB="$ROOT/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
truncate -s "${ESP_MIB}M" "$WORK/esp.vfat"
mkfs.vfat -F 32 -n EFI "$WORK/esp.vfat" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$WORK/esp.vfat" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries ::/debian
mcopy -i "$WORK/esp.vfat" "$EFI_STUB" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.vfat" "$EFI_STUB" ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$WORK/esp.vfat" "$ROOT/boot/vmlinuz-$KVER" ::/debian/vmlinuz
mcopy -i "$WORK/esp.vfat" "$ROOT/boot/initrd.img-$KVER" ::/debian/initrd.img
printf 'timeout 0\ndefault debian.conf\neditor no\nauto-entries no\nauto-firmware no\n' >"$WORK/loader.conf"
# Same console and verbosity as Cairn (kernelCmdline()) so the UART costs both the same.
printf 'title Debian 12 baseline\nlinux /debian/vmlinuz\ninitrd /debian/initrd.img\noptions root=PARTUUID=%s ro console=ttyS0,115200 quiet loglevel=3 panic=-1 i8042.noaux i8042.nokbd\n' "$ROOT_PARTUUID" >"$WORK/debian.conf"
mcopy -i "$WORK/esp.vfat" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$WORK/esp.vfat" "$WORK/debian.conf" ::/loader/entries/debian.conf

# GPT: ESP at 1 MiB, root after it, 1 MiB tail for the backup table.
DISK_MIB=$(( 1 + ESP_MIB + ROOT_MIB + 1 ))
rm -f "$RAW.tmp"; truncate -s "${DISK_MIB}M" "$RAW.tmp"
sgdisk -o \
  -n 1:1M:+${ESP_MIB}M -t 1:ef00 -c 1:EFI \
  -n 2:0:+${ROOT_MIB}M -t 2:8304 -c 2:root -u 2:$ROOT_PARTUUID \
  "$RAW.tmp" >/dev/null
dd if="$WORK/esp.vfat" of="$RAW.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$RAW.tmp" bs=1M seek=$(( 1 + ESP_MIB )) conv=notrunc,sparse status=none
mv "$RAW.tmp" "$RAW"
t_end=$(date +%s)

size() { stat -c %s "$1"; }
cat >"$SUMMARY" <<EOF
{
  "raw": "$RAW",
  "kernelPackage": "$KPKG=$KVER_PKG",
  "rawApparentBytes": $(size "$RAW"),
  "rawAllocatedBytes": $(du --block-size=1 "$RAW" | cut -f1),
  "kernelBytes": $(size "$ROOT/boot/vmlinuz-$KVER"),
  "initrdBytes": $(size "$ROOT/boot/initrd.img-$KVER"),
  "rootfsUsedBytes": $ROOT_BYTES,
  "rootfsImageAllocatedBytes": $(du --block-size=1 "$WORK/root.ext4" | cut -f1),
  "packages": $(in_root dpkg-query -W -f '.\n' | wc -l),
  "buildSeconds": { "debootstrap": $((t_debootstrap - t0)), "chroot": $((t_chroot - t_debootstrap)), "image": $((t_end - t_chroot)) }
}
EOF
rm -rf "$WORK"
echo "baseline: built $RAW in $((t_end - t0)) s"
cat "$SUMMARY"
