import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../errors/index.js";
import { detectAccel } from "./accel.js";
import { findFirmware } from "./firmware.js";
import { pickFreePort } from "./free-port.js";
import { QemuNode, type NodeHandle } from "./node-handle.js";
import { createOverlay } from "./overlay-disk.js";
import { qemuArgs } from "./qemu-args.js";
import { QmpClient } from "./qmp-client.js";
import { resolveLaunchSpec } from "./resolve-spec.js";
import type { NodeLaunchSpec, NodeState } from "./types.js";

/** Fixed file names inside a node's workDir. */
export const NODE_FILES = {
  overlay: "disk.qcow2",
  vars: "OVMF_VARS.fd",
  console: "console.log",
  qmp: "qmp.sock",
  pid: "qemu.pid",
  qemuLog: "qemu.log",
} as const;

const PORT_CLASH = /Could not set up host forwarding rule/;

/**
 * Launches one QEMU node and resolves once QMP answers. The node writes only
 * to a qcow2 overlay in `workDir`; launching again in the same workDir keeps
 * that disk and the OVMF variables, like powering a machine back on (the old
 * console log is kept as console.log.1). QEMU runs in its own session
 * (detached) so it survives the caller, e.g. `nodectl cluster create`; tests
 * must register the handle with cleanupOnExit. When the API port was picked
 * automatically and QEMU loses the race for it, launch retries with another.
 */
export async function launchNode(spec: NodeLaunchSpec): Promise<NodeHandle> {
  const t0 = Date.now();
  const workDir = resolve(spec.workDir);
  const paths = {
    overlay: join(workDir, NODE_FILES.overlay),
    vars: join(workDir, NODE_FILES.vars),
    consoleLog: join(workDir, NODE_FILES.console),
    qmpSocket: join(workDir, NODE_FILES.qmp),
    pidFile: join(workDir, NODE_FILES.pid),
  };
  const accel = spec.accel ?? (await detectAccel({ ...(spec.qemuBinary !== undefined && { qemuBinary: spec.qemuBinary }) }));
  const firmware = findFirmware();
  // Validate before touching the disk, so a bad spec leaves nothing behind.
  resolveLaunchSpec(spec, { accel, firmwareCode: firmware.code, apiHostPort: spec.apiHostPort || 1, extraHostFwds: [], ...paths });
  if (spec.configFile !== undefined && !existsSync(spec.configFile)) {
    throw new CairnError("NOT_FOUND", `config file ${spec.configFile} not found`);
  }
  await mkdir(workDir, { recursive: true });
  if (!existsSync(paths.overlay)) await createOverlay(spec.baseImage, paths.overlay, spec.diskSizeGiB);
  if (!existsSync(paths.vars)) await copyFile(firmware.varsTemplate, paths.vars);
  if (existsSync(paths.consoleLog)) await rename(paths.consoleLog, `${paths.consoleLog}.1`);

  const autoPort = spec.apiHostPort === undefined || spec.apiHostPort === 0;
  for (let attempt = 1; ; attempt++) {
    const apiHostPort = autoPort ? await pickFreePort() : (spec.apiHostPort as number);
    const extraHostFwds = await Promise.all(
      (spec.extraHostFwds ?? []).map(async (f) => (f.hostPort === 0 ? { ...f, hostPort: await pickFreePort(new Set([apiHostPort])) } : f)),
    );
    const configFile = spec.configFile === undefined ? undefined : resolve(spec.configFile);
    const resolved = resolveLaunchSpec({ ...spec, ...(configFile !== undefined && { configFile }) }, { accel, firmwareCode: firmware.code, apiHostPort, extraHostFwds, ...paths });
    await rm(paths.qmpSocket, { force: true });
    await rm(paths.pidFile, { force: true });
    const prepareMs = Date.now() - t0;
    const t1 = Date.now();
    const child = spawnQemu(spec.qemuBinary ?? "qemu-system-x86_64", qemuArgs(resolved), join(workDir, NODE_FILES.qemuLog));
    const qmp = await waitForQmp(child, paths.qmpSocket, spec.readyTimeoutMs ?? 15_000);
    if (qmp instanceof QmpClient) {
      const state: NodeState = {
        name: spec.name, pid: child.pid as number, apiEndpoint: `127.0.0.1:${apiHostPort}`, apiHostPort,
        workDir, consoleLog: paths.consoleLog, qmpSocket: paths.qmpSocket, pidFile: paths.pidFile,
        overlay: paths.overlay, accel, memoryMiB: resolved.memoryMiB, cpus: resolved.cpus,
      };
      return new QemuNode(state, { child, qmp, timings: { prepareMs, qmpReadyMs: Date.now() - t1 } });
    }
    const log = readLog(join(workDir, NODE_FILES.qemuLog));
    if (autoPort && PORT_CLASH.test(log) && attempt < 3) continue;
    throw new CairnError("UNAVAILABLE", `QEMU for node ${spec.name} ${qmp}: ${log.trim().split("\n").slice(-5).join(" | ")}`, {
      hint: `full log: ${join(workDir, NODE_FILES.qemuLog)}`,
    });
  }
}

function spawnQemu(binary: string, args: string[], logPath: string): ChildProcess {
  const fd = openSync(logPath, "w");
  try {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", fd, fd] });
    child.unref();
    child.once("error", () => undefined); // ENOENT etc.: reported through exit below
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Resolves the connected client, or a short reason string once QEMU exited or the deadline passed. */
async function waitForQmp(child: ChildProcess, socket: string, timeoutMs: number): Promise<QmpClient | string> {
  let exit: string | undefined;
  child.once("exit", (code, signal) => (exit = `exited (${signal ?? `code ${code}`}) during startup`));
  child.once("error", (e) => (exit = `failed to start (${e.message})`));
  const deadline = Date.now() + timeoutMs;
  while (exit === undefined && Date.now() < deadline) {
    if (existsSync(socket)) {
      try {
        // Short attempts: a stale socket file of a QEMU that already died refuses
        // forever, and the loop must get back to checking `exit`.
        return await QmpClient.connect(socket, { timeoutMs: 1000 });
      } catch {
        // QEMU died between bind and accept, or not accepting yet: loop re-checks exit
      }
    }
    await sleep(20);
  }
  if (exit !== undefined) return exit;
  child.kill("SIGKILL");
  return `did not open QMP within ${timeoutMs} ms (killed)`;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
