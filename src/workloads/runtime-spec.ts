import { posix } from "node:path";
import { CairnError } from "../errors/index.js";
import type { OciImageConfig } from "./oci/types.js";
import type { WorkloadSpec } from "./workload-spec.js";

/** containerd's type URL for a JSON runtime spec inside a protobuf Any. */
export const RUNTIME_SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/** The capabilities containerd grants by default (oci/spec.go); nothing more. */
const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
];
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const CFS_PERIOD_US = 100_000;

export interface RuntimeSpecOptions {
  /** cgroup parent for every workload, e.g. /cairn (cgroupfs driver, v1 or v2). */
  readonly cgroupParent: string;
}

/**
 * Builds the OCI runtime spec runc executes, in the shape containerd's own
 * defaults have: own PID, IPC, UTS and mount namespaces, the host network unless
 * asked otherwise, default capabilities only, no new privileges, masked /proc
 * paths, and cpu/memory limits in linux.resources.
 */
export function buildRuntimeSpec(spec: WorkloadSpec, image: OciImageConfig, opts: RuntimeSpecOptions): Record<string, unknown> {
  const where = `workload ${spec.name}`;
  const ic = image.config ?? {};
  const args = [...(ic.Entrypoint ?? []), ...(spec.args ?? ic.Cmd ?? [])];
  if (args.length === 0) throw new CairnError("INVALID_ARGUMENT", `${where}: no args and the image has no Entrypoint or Cmd`);
  const env = mergeEnv(ic.Env ?? [], spec.env ?? {});
  const user = parseUser(ic.User ?? "", where);
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if ((spec.network ?? "host") !== "host") namespaces.push({ type: "network" });
  const resources: Record<string, unknown> = { devices: [{ allow: false, access: "rwm" }] };
  if (spec.resources?.memoryBytes !== undefined) resources.memory = { limit: spec.resources.memoryBytes };
  if (spec.resources?.cpu !== undefined) {
    resources.cpu = { quota: Math.max(1000, Math.round(spec.resources.cpu * CFS_PERIOD_US)), period: CFS_PERIOD_US };
  }
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user,
      args,
      env,
      cwd: ic.WorkingDir || "/",
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: spec.readOnlyRootfs === true },
    hostname: spec.name,
    mounts: [...DEFAULT_MOUNTS, ...bindMounts(spec, where)],
    linux: {
      cgroupsPath: posix.join(opts.cgroupParent, spec.name),
      namespaces,
      resources,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

const DEFAULT_MOUNTS = [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
  { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
];

function bindMounts(spec: WorkloadSpec, where: string): Record<string, unknown>[] {
  return (spec.mounts ?? []).map((m, i) => {
    const source = posix.normalize(m.source);
    // The config schema checks this too; the runtime refuses on its own as well.
    if (!source.startsWith("/var/")) {
      throw new CairnError("INVALID_ARGUMENT", `${where}: mounts[${i}].source must be under /var: ${m.source}`);
    }
    return { destination: m.destination, type: "bind", source, options: ["rbind", m.readOnly ? "ro" : "rw", "nosuid", "nodev"] };
  });
}

function mergeEnv(image: readonly string[], extra: Readonly<Record<string, string>>): string[] {
  const map = new Map<string, string>();
  for (const kv of image) {
    const eq = kv.indexOf("=");
    map.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? "" : kv.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(extra)) map.set(k, v);
  if (!map.has("PATH")) map.set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  return [...map].map(([k, v]) => `${k}=${v}`);
}

/** Only numeric users: there is no /etc/passwd lookup inside the image (yet). */
function parseUser(user: string, where: string): { uid: number; gid: number } {
  if (user === "" || user === "root" || user === "0") return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new CairnError("INVALID_ARGUMENT", `${where}: image user "${user}" is not numeric (uid[:gid]); named users are not supported`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}
