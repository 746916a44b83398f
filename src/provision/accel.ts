import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../errors/index.js";
import type { Accel } from "./types.js";

/** Options for detectAccel. */
export interface DetectAccelOptions {
  readonly qemuBinary?: string;
  /** How long the probe guest gets to show life; default 3000 ms. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Ignore and replace the per-process cached answer. */
  readonly fresh?: boolean;
}

let cached: Promise<Accel> | undefined;

/**
 * Decides between KVM and TCG. `CAIRN_ACCEL=kvm|tcg` wins. Otherwise, with
 * /dev/kvm present, it boots a throwaway diskless guest under KVM (SeaBIOS on
 * the `pc` machine) and watches SeaBIOS's debug port: on hosts where nested
 * KVM hangs the guest, QEMU starts but the firmware never prints, so "QEMU
 * started" is not proof and only guest output counts. The probe is killed
 * after `timeoutMs` either way. The answer is cached per process.
 */
export function detectAccel(opts: DetectAccelOptions = {}): Promise<Accel> {
  const env = opts.env ?? process.env;
  const forced = env["CAIRN_ACCEL"];
  if (forced !== undefined && forced !== "") {
    if (forced !== "kvm" && forced !== "tcg") {
      return Promise.reject(new CairnError("INVALID_ARGUMENT", `CAIRN_ACCEL must be kvm or tcg, got "${forced}"`));
    }
    return Promise.resolve(forced);
  }
  if (cached === undefined || opts.fresh === true) cached = probe(opts);
  return cached;
}

async function probe(opts: DetectAccelOptions): Promise<Accel> {
  if (!existsSync("/dev/kvm")) return "tcg";
  const dir = mkdtempSync(join(tmpdir(), "cairn-kvm-probe-"));
  const debugLog = join(dir, "seabios.log");
  const child = spawn(
    opts.qemuBinary ?? "qemu-system-x86_64",
    ["-accel", "kvm", "-machine", "pc", "-cpu", "max", "-m", "32", "-nodefaults", "-display", "none",
      "-no-reboot", "-chardev", `file,id=dbg,path=${debugLog}`, "-device", "isa-debugcon,iobase=0x402,chardev=dbg"],
    { stdio: "ignore" },
  );
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", () => (exited = true));
  const deadline = Date.now() + (opts.timeoutMs ?? 3000);
  let alive = false;
  try {
    while (!exited && Date.now() < deadline) {
      if (existsSync(debugLog) && readFileSync(debugLog, "utf8").includes("SeaBIOS")) {
        alive = true;
        break;
      }
      await sleep(50);
    }
  } finally {
    if (!exited) {
      child.kill("SIGKILL");
      await new Promise((r) => (exited ? r(undefined) : child.once("exit", r)));
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return alive ? "kvm" : "tcg";
}
