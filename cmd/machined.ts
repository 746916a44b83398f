// machined: the Cairn node daemon. `--mode metal` runs as PID 1 in the image;
// `--mode process` runs the same node logic as a host process over a state dir.
import { Command, Option } from "commander";
import { createLogger } from "../src/log/index.js";
import { installCrashGuards, LogStore, runNode } from "../src/init/index.js";
import { ProcessPlatform, type Platform } from "../src/platform/index.js";
import { readOsVersion } from "../src/init/os-version.js";

const program = new Command("machined")
  .description("Cairn node daemon")
  .addOption(new Option("--mode <mode>", "metal (PID 1) or process (host process)").choices(["metal", "process"]).default("process"))
  .option("--state <dir>", "process mode: directory standing in for the STATE and EPHEMERAL partitions")
  .option("--listen <host:port>", "address of the machine API", "0.0.0.0:50000")
  .option("--os-version <version>", "process mode: the OS version to report")
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ mode: "metal" | "process"; state?: string; listen: string; osVersion?: string }>();
  // The API server's records (component "api") form apid's log.
  const logs = new LogStore(2000, { api: "apid" });
  const log = createLogger({ destination: logs.sink("machined", process.stdout) });
  installCrashGuards(log);
  let platform: Platform;
  if (opts.mode === "process") {
    const state = opts.state ?? program.error("error: --state <dir> is required with --mode process");
    // A host containerd for the node's workloads (integration tests start one); none when unset.
    const containerdSocket = process.env["CAIRN_CONTAINERD_SOCKET"] || undefined;
    platform = new ProcessPlatform({ dir: state, osVersion: opts.osVersion ?? (await readOsVersion()), containerdSocket });
  } else {
    // Loaded only on metal: koffi and the syscall layer never load in process mode.
    const { createLinuxPlatform } = await import("../src/platform/linux/linux-platform.js");
    platform = createLinuxPlatform();
  }
  const announce = (line: string) => process.stderr.write(`${line}\n`);
  // Tests shorten the wait before a trial boot is blessed.
  const grace = Number(process.env["CAIRN_BLESS_GRACE_MS"] ?? "");
  await runNode({ platform, listen: opts.listen, log, logs, announce, ...(Number.isFinite(grace) && grace > 0 ? { blessGraceMs: grace } : {}) });
  log.info({}, "powered off");
  if (opts.mode === "process") process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`machined: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
  if (program.opts()["mode"] === "process") process.exit(1);
  // PID 1 must never exit (the kernel would panic). Reboot after a pause so the
  // console can be read and boot counting can fall back to the other slot.
  process.stderr.write("machined: rebooting in 10 s\n");
  setTimeout(() => void rebootAfterFatal(), 10_000);
});

async function rebootAfterFatal(): Promise<void> {
  try {
    const { createLinuxPlatform } = await import("../src/platform/linux/linux-platform.js");
    await createLinuxPlatform().powerAction("reboot", createLogger());
  } catch (e) {
    process.stderr.write(`machined: reboot failed: ${e instanceof Error ? e.message : String(e)}; halting\n`);
    setInterval(() => undefined, 1 << 30);
  }
}
