import { CairnError } from "../errors/index.js";
import type { Accel, HostFwd, NodeLaunchSpec, ResolvedLaunchSpec } from "./types.js";

/** Default guest RAM: the image targets 256 MiB; the rest is headroom for upgrades and tests. */
export const DEFAULT_MEMORY_MIB = 512;
/** Default vCPUs: one, since TCG spends a host thread per vCPU and the host has two cores. */
export const DEFAULT_CPUS = 1;
/** Linux sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH = 107;

/** Everything launchNode decides before building argv: accel, firmware, ports and file paths. */
export interface LaunchDecisions {
  readonly accel: Accel;
  readonly firmwareCode: string;
  readonly apiHostPort: number;
  readonly extraHostFwds: readonly HostFwd[];
  readonly overlay: string;
  readonly vars: string;
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly pidFile: string;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new CairnError("INVALID_ARGUMENT", `${name} must be a positive integer, got ${v}`);
  return v;
}

function port(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new CairnError("INVALID_ARGUMENT", `${name} must be a TCP port 1-65535, got ${v}`);
  return v;
}

/**
 * Validates a launch spec and fills its defaults. Pure: no file system, no
 * QEMU; errors are INVALID_ARGUMENT naming the field.
 */
export function resolveLaunchSpec(spec: NodeLaunchSpec, d: LaunchDecisions): ResolvedLaunchSpec {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(spec.name)) {
    throw new CairnError("INVALID_ARGUMENT", `node name "${spec.name}" must be letters, digits, '.', '_' or '-'`);
  }
  if (Buffer.byteLength(d.qmpSocket) > MAX_UNIX_SOCKET_PATH) {
    throw new CairnError("INVALID_ARGUMENT", `QMP socket path is longer than ${MAX_UNIX_SOCKET_PATH} bytes: ${d.qmpSocket}`, {
      hint: "use a shorter workDir or state root",
    });
  }
  return {
    name: spec.name,
    accel: d.accel,
    memoryMiB: positiveInt("memoryMiB", spec.memoryMiB ?? DEFAULT_MEMORY_MIB),
    cpus: positiveInt("cpus", spec.cpus ?? DEFAULT_CPUS),
    firmwareCode: d.firmwareCode,
    firmwareVars: d.vars,
    overlay: d.overlay,
    apiHostPort: port("apiHostPort", d.apiHostPort),
    extraHostFwds: d.extraHostFwds.map((f) => ({ ...f, hostPort: port("extraHostFwds.hostPort", f.hostPort), guestPort: port("extraHostFwds.guestPort", f.guestPort) })),
    tapNics: (spec.tapNics ?? []).map((n, i) => {
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n.tap)) throw new CairnError("INVALID_ARGUMENT", `tapNics[${i}].tap "${n.tap}" must be 1-15 letters, digits, '_', '.' or '-'`);
      if (n.mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac)) throw new CairnError("INVALID_ARGUMENT", `tapNics[${i}].mac "${n.mac}" is not a MAC address`);
      return n;
    }),
    rtcBase: spec.rtcBase === undefined || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(spec.rtcBase) ? spec.rtcBase : badRtc(spec.rtcBase),
    configFile: spec.configFile,
    consoleLog: d.consoleLog,
    qmpSocket: d.qmpSocket,
    pidFile: d.pidFile,
  };
}

function badRtc(v: string): never {
  throw new CairnError("INVALID_ARGUMENT", `rtcBase "${v}" must be YYYY-MM-DDTHH:MM:SS (UTC)`);
}
