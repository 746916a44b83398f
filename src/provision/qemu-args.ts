import type { HostFwd, ResolvedLaunchSpec } from "./types.js";

/** Guest port of the machine API; every node forwards one host port to it. */
export const GUEST_API_PORT = 50000;

/** fw_cfg key the node reads its first-boot config from (the Ignition/Combustion convention). */
export const FW_CFG_CONFIG_NAME = "opt/dev.cairn/config";

/**
 * Escapes a value for QEMU's `key=value,...` option syntax, where a literal
 * comma is written as two commas. Paths are the only user input that needs it.
 */
export function qemuOptValue(v: string): string {
  return v.replaceAll(",", ",,");
}

function hostFwd(f: HostFwd): string {
  return `hostfwd=${f.protocol ?? "tcp"}:127.0.0.1:${f.hostPort}-:${f.guestPort}`;
}

/**
 * Builds the qemu-system-x86_64 argument vector for one node. Pure: same spec,
 * same argv. Choices, each measured or required:
 * - q35 + OVMF pflash (CODE read-only, VARS per node) so systemd-boot and its
 *   boot counting behave as on metal; no `-no-reboot`, a guest reboot resets in place.
 * - `-cpu max` gives the guest RDRAND (Node otherwise blocks ~1 s on entropy under TCG).
 * - virtio-net with `romfile=` (no iPXE option ROM, saves ~1.6 s) and the disk as
 *   the only boot device (bootindex=0).
 * - `-nodefaults` drops the default VGA, NIC and CD-ROM; serial goes to a file.
 */
export function qemuArgs(spec: ResolvedLaunchSpec): string[] {
  const fwds = [{ hostPort: spec.apiHostPort, guestPort: GUEST_API_PORT }, ...spec.extraHostFwds];
  const args = [
    "-name", qemuOptValue(spec.name), // no process=: keep comm "qemu-system-x86" so `pgrep qemu` finds leaks
    "-machine", `q35,accel=${spec.accel}`,
    "-cpu", "max",
    "-smp", String(spec.cpus),
    "-m", String(spec.memoryMiB),
    "-nodefaults",
    "-display", "none",
    "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(spec.firmwareCode)}`,
    "-drive", `if=pflash,format=raw,unit=1,file=${qemuOptValue(spec.firmwareVars)}`,
    "-drive", `if=none,id=disk0,format=qcow2,file=${qemuOptValue(spec.overlay)}`,
    "-device", "virtio-blk-pci,drive=disk0,bootindex=0",
    "-netdev", ["user", "id=net0", ...fwds.map(hostFwd)].join(","),
    "-device", "virtio-net-pci,netdev=net0,romfile=",
    "-chardev", `file,id=console0,path=${qemuOptValue(spec.consoleLog)}`,
    "-serial", "chardev:console0",
    "-chardev", `socket,id=qmp0,path=${qemuOptValue(spec.qmpSocket)},server=on,wait=off`,
    "-mon", "chardev=qmp0,mode=control",
    "-pidfile", spec.pidFile,
  ];
  if (spec.rtcBase !== undefined) args.push("-rtc", `base=${spec.rtcBase}`);
  spec.tapNics.forEach((n, i) => {
    args.push("-netdev", `tap,id=tap${i},ifname=${n.tap},script=no,downscript=no`);
    args.push("-device", `virtio-net-pci,netdev=tap${i},romfile=${n.mac ? `,mac=${n.mac}` : ""}`);
  });
  if (spec.configFile !== undefined) {
    args.push("-fw_cfg", `name=${FW_CFG_CONFIG_NAME},file=${qemuOptValue(spec.configFile)}`);
  }
  return args;
}
