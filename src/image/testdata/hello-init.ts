/**
 * Test entry for image boot tests, standing in for machined until it can
 * boot: as PID 1 it loads koffi from the image, prints
 * "CAIRN-HELLO slot=<slot> version=<version>" on the console and powers off
 * with reboot(RB_POWER_OFF). Proves the whole chain: firmware, systemd-boot,
 * kernel, stage 1, squashfs root, Node, the bundle, koffi and libc.
 */
import { readFileSync, writeSync } from "node:fs";
import koffi from "koffi";

const RB_POWER_OFF = 0x4321fedc;

function bootedSlot(): string {
  const m = /(?:^|\s)cairn\.slot=(\S+)/.exec(readFileSync("/proc/cmdline", "utf8"));
  return m?.[1] ?? "unknown";
}

function osVersion(): string {
  const m = /^VERSION_ID=(.*)$/m.exec(readFileSync("/etc/os-release", "utf8"));
  return m?.[1]?.replace(/^"|"$/g, "") ?? "unknown";
}

const libc = koffi.load("libc.so.6");
const reboot = libc.func("int reboot(int cmd)");
const uptime = readFileSync("/proc/uptime", "utf8").split(" ")[0];
writeSync(1, `CAIRN-HELLO slot=${bootedSlot()} version=${osVersion()}\n`);
writeSync(1, `CAIRN-HELLO-TIMING pid=${process.pid} uptime=${uptime}s node=${process.version}\n`);
const rc = reboot(RB_POWER_OFF) as number;
writeSync(2, `hello-init: reboot(RB_POWER_OFF) returned ${rc}\n`);
