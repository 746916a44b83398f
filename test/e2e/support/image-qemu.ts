import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

/** OVMF firmware (code read-only, vars copied per VM), as Debian's ovmf package installs it. */
export function ovmfPaths(): { code: string; vars: string } {
  for (const [code, vars] of [
    ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"],
    ["/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"],
  ] as const) {
    if (existsSync(code) && existsSync(vars)) return { code, vars };
  }
  throw new Error("OVMF not found: run hack/install-deps.sh");
}

/** Outcome of one boot: the console text, when the awaited line appeared, how QEMU ended. */
export interface BootRun {
  readonly console: string;
  readonly match: RegExpMatchArray | null;
  /** Milliseconds from QEMU spawn to the first console line matching `waitFor`. */
  readonly msToMatch: number | null;
  readonly exitCode: number | null;
  readonly msToExit: number;
}

/**
 * Boots a raw disk under QEMU TCG with UEFI (OVMF) from a throw-away qcow2
 * overlay (or directly from a kernel + initramfs), console on a serial log file, until QEMU exits or `timeoutMs`
 * passes (then it is killed). -nodefaults drops the default DVD drive and
 * NIC (both cost firmware time); -no-reboot turns a guest reboot (stage 1
 * failure, panic) into a QEMU exit instead of a loop.
 */
export async function bootDisk(opts: {
  raw: string;
  waitFor: RegExp;
  timeoutMs: number;
  memMiB?: number;
  /** Boot this kernel + initramfs directly (SeaBIOS, no OVMF/systemd-boot) with `append` as cmdline. */
  direct?: { kernel: string; initramfs: string; append: string };
}): Promise<BootRun> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-boot-"));
  try {
    const fw = ovmfPaths();
    const vars = join(dir, "vars.fd");
    copyFileSync(fw.vars, vars);
    const overlay = join(dir, "disk.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", opts.raw, overlay]);
    const log = join(dir, "serial.log");
    const firmware = opts.direct
      ? ["-kernel", opts.direct.kernel, "-initrd", opts.direct.initramfs, "-append", opts.direct.append]
      : ["-drive", `if=pflash,format=raw,readonly=on,file=${fw.code}`, "-drive", `if=pflash,format=raw,file=${vars}`];
    const args = [
      "-nodefaults", "-accel", "tcg", "-cpu", "max", "-machine", "q35", "-m", String(opts.memMiB ?? 256),
      ...firmware,
      "-drive", `file=${overlay},if=virtio,format=qcow2`,
      "-display", "none", "-serial", `file:${log}`, "-no-reboot",
    ];
    const started = performance.now();
    const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    qemu.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => qemu.on("exit", (code) => res(code)));
    let done = false;
    void exited.then(() => (done = true));
    const kill = setTimeout(() => qemu.kill("SIGKILL"), opts.timeoutMs);
    let msToMatch: number | null = null;
    while (!done) {
      if (msToMatch === null && existsSync(log) && opts.waitFor.test(readFileSync(log, "latin1"))) {
        msToMatch = performance.now() - started;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const exitCode = await exited;
    clearTimeout(kill);
    const msToExit = performance.now() - started;
    const consoleText = existsSync(log) ? readFileSync(log, "latin1") : "";
    if (msToMatch === null && opts.waitFor.test(consoleText)) msToMatch = msToExit;
    if (exitCode !== 0 && stderr) process.stderr.write(`qemu: ${stderr}\n`);
    return { console: consoleText, match: consoleText.match(opts.waitFor), msToMatch, exitCode, msToExit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
