import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import type {
  BootIdentity,
  KernelLogRecord,
  KernelStatus,
  LinkStatus,
  ModuleLoadReport,
  ResolverStatus,
  RouteStatus,
  DhcpLeaseStatus,
  MountInfo,
  NetworkSpec,
  Platform,
  PlatformPaths,
  PowerAction,
  SlotName,
  StatsSnapshot,
} from "../platform.js";
import { BUILD_INFO_PATH, readBuildInfo } from "./build-info.js";
import { linuxContainerHost } from "./container-host.js";
import { growEphemeral } from "./ephemeral-grow.js";
import { checkEntropy } from "./entropy.js";
import { nodeError } from "./errno.js";
import { setKernelHostname } from "./hostname.js";
import { InetControl } from "./inet-ioctl.js";
import { readKernelLog, writeKernelLogLine } from "./kmsg.js";
import { readBlockDevices, readMeminfo, readProcesses, readSockets } from "./inspect.js";
import { loadModules } from "./modules.js";
import { MountTable, MS } from "./mount.js";
import { readLinks } from "./net-links.js";
import { NetworkConfigurator } from "./network.js";
import { partitionBytes, waitForPartition } from "./partitions.js";
import { powerOff } from "./power.js";
import { parseCmdlineSlot } from "./proc-parsers.js";
import { mountedTargets, mountPseudoFilesystems } from "./pseudo-mounts.js";
import { OrphanReaper } from "./reaper.js";
import { RESOLV_CONF_PATH } from "./resolv-conf.js";
import { readMounts, readStats } from "./stats.js";
import { applySysctls } from "./sysctl.js";
import { readFirstBootConfig } from "./first-boot-config.js";
import { kernelHostname, readKernelStatus, readResolvers, readRoutes, readSysctls, setRealtimeClock } from "./node-status.js";
import { DirBootStore } from "../dir-boot-store.js";

/** Where machined mounts the EFI partition (read-write, for upgrades and blessing). */
export const EFI_MOUNT = "/boot/efi";
/** Trusted release public keys inside the image's read-only root. */
export const RELEASE_KEYS_DIR = "/etc/cairn/release-keys";

/** Knobs for createLinuxPlatform; every one has a default that matches the Cairn image. */
export interface LinuxPlatformOptions {
  /** Mount points of STATE and EPHEMERAL. Default /system/state and /var. */
  readonly paths?: Partial<PlatformPaths>;
  /** GPT partition names (PARTNAME). Default STATE and EPHEMERAL. */
  readonly stateLabel?: string;
  readonly ephemeralLabel?: string;
  /** Modules to load with their dependencies; default every module in modules.dep. */
  readonly modules?: readonly string[];
  /** How long to wait for a partition to appear after its driver loads. Default 10 s. */
  readonly partitionTimeoutMs?: number;
  /** Grow EPHEMERAL to the end of its disk at boot. Default true. */
  readonly growEphemeral?: boolean;
  /** Default /usr/lib/cairn/build.json. */
  readonly buildInfoPath?: string;
  /** Default /run/cairn/resolv.conf; the image links /etc/resolv.conf to it. */
  readonly resolvConfPath?: string;
  /** DHCP gives up on a link after this long. Default 15 s. */
  readonly dhcpTimeoutMs?: number;
  /** Orphan sweep period besides SIGCHLD. Default 1 s. */
  readonly reaperIntervalMs?: number;
}

/** The metal Platform plus what only metal has: the orphan reaper that spawners register children with. */
export interface LinuxPlatform extends Platform {
  /** Register every child_process spawn here (`reaper.trackChild(spawn(...))`) so the reaper never steals it. */
  readonly reaper: OrphanReaper;
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (e) {
    throw nodeError(`read ${path}`, e);
  }
}

/**
 * The metal implementation of Platform: PID 1 in a VM, kernel access
 * through koffi. Composes the single-purpose modules of this folder; the
 * order of boot() is the order a Linux init needs.
 */
export function createLinuxPlatform(opts: LinuxPlatformOptions = {}): LinuxPlatform {
  const paths: PlatformPaths = { state: opts.paths?.state ?? "/system/state", ephemeral: opts.paths?.ephemeral ?? "/var" };
  const stateLabel = opts.stateLabel ?? "STATE";
  const ephemeralLabel = opts.ephemeralLabel ?? "EPHEMERAL";
  const partitionTimeoutMs = opts.partitionTimeoutMs ?? 10_000;
  const mounts = new MountTable();
  const reaper = new OrphanReaper(undefined, { intervalMs: opts.reaperIntervalMs ?? 1000 });
  const resolvConfPath = opts.resolvConfPath ?? RESOLV_CONF_PATH;
  const network = new NetworkConfigurator({
    resolvConfPath,
    dhcpTimeoutMs: opts.dhcpTimeoutMs ?? 15_000,
  });
  let booted: Promise<BootIdentity> | undefined;
  let efiMounted: Promise<string> | undefined;

  /** Mounts the EFI partition (vfat) read-write at EFI_MOUNT once; later calls reuse it. */
  async function mountEfi(): Promise<string> {
    const part = await waitForPartition("EFI", { timeoutMs: partitionTimeoutMs });
    if (!mountedTargets().has(EFI_MOUNT)) {
      // The kernel's default iocharset (ascii) has no module in the image: name the ones it ships.
      mounts.mount({ source: part.device, target: EFI_MOUNT, fstype: "vfat", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME, data: "codepage=437,iocharset=iso8859-1" });
    }
    return EFI_MOUNT;
  }

  const bootStore = new DirBootStore({
    efiDir: () => {
      efiMounted ??= mountEfi().catch((e: unknown) => {
        efiMounted = undefined;
        throw e;
      });
      return efiMounted;
    },
    rootTarget: async (slot) => (await waitForPartition(`ROOT-${slot}`, { timeoutMs: partitionTimeoutMs })).device,
    rootCapacity: async (slot) => partitionBytes((await waitForPartition(`ROOT-${slot}`, { timeoutMs: partitionTimeoutMs })).device),
    releaseKeysDir: RELEASE_KEYS_DIR,
  });

  async function mountData(label: string, target: string, log: Logger): Promise<ReturnType<typeof waitForPartition>> {
    const part = await waitForPartition(label, { timeoutMs: partitionTimeoutMs });
    if (mountedTargets().has(target)) {
      log.info({ label, target }, "partition already mounted");
    } else {
      mounts.mount({ source: part.device, target, fstype: "ext4", flags: MS.NOSUID | MS.NODEV | MS.RELATIME });
      log.info({ label, device: part.device, target }, "partition mounted");
    }
    return part;
  }

  // Callers pass loggers that already carry their `component`; pino would repeat
  // the key in a child, so the parts of the platform are told apart by `subsystem`.
  async function doBoot(log: Logger): Promise<BootIdentity> {
    const t0 = Date.now();
    mountPseudoFilesystems(log);
    checkEntropy(log);
    loadModules(log, opts.modules ? { wanted: opts.modules } : {});
    const inet = new InetControl();
    try {
      inet.linkUp("lo");
    } finally {
      inet.close();
    }
    await mountData(stateLabel, paths.state, log);
    const eph = await mountData(ephemeralLabel, paths.ephemeral, log);
    if (opts.growEphemeral ?? true) {
      try {
        const r = growEphemeral(eph, paths.ephemeral, ephemeralLabel);
        log.info({ device: eph.device, tableRewritten: r.tableRewritten, kernelResized: r.kernelResized, bytes: Number(r.partitionBytes) }, "EPHEMERAL size checked");
      } catch (err) {
        // A node with a small /var still works; failing the boot over it would not help.
        log.error({ err, device: eph.device }, "EPHEMERAL grow failed");
      }
    }
    reaper.start(log.child({ subsystem: "reaper" }));
    const identity = await readIdentity(log);
    log.info({ ...identity, durationMs: Date.now() - t0 }, "platform booted");
    return identity;
  }

  async function readIdentity(log: Logger): Promise<BootIdentity> {
    const bootId = await readText("/proc/sys/kernel/random/boot_id");
    const slotArg = parseCmdlineSlot(await readText("/proc/cmdline"));
    let slot: SlotName;
    if (slotArg === undefined) {
      log.warn({}, "no cairn.slot= on the kernel command line, assuming slot A");
      slot = "A";
    } else if (typeof slotArg === "object") {
      throw new CairnError("FAILED_PRECONDITION", `read /proc/cmdline: cairn.slot=${slotArg.invalid} is not A or B`);
    } else {
      slot = slotArg;
    }
    const build = await readBuildInfo(opts.buildInfoPath ?? BUILD_INFO_PATH);
    return { bootId, slot, osVersion: build.version, buildId: build.buildId, arch: build.arch };
  }

  return {
    mode: "metal",
    paths,
    bootStore,
    reaper,
    containers: linuxContainerHost(reaper, paths.ephemeral),

    boot(log: Logger): Promise<BootIdentity> {
      // Idempotent: a second caller gets the first boot's result. After a failure the
      // next call retries; every step skips what is already done (mounted, loaded).
      booted ??= doBoot(log).catch((e: unknown) => {
        booted = undefined;
        throw e;
      });
      return booted;
    },

    async setHostname(name: string): Promise<void> {
      setKernelHostname(name);
    },

    applySysctls(sysctls: Readonly<Record<string, string>>): Promise<void> {
      return applySysctls(sysctls);
    },

    configureNetwork(spec: NetworkSpec, log: Logger): Promise<readonly LinkStatus[]> {
      return network.configure(spec, log.child({ subsystem: "network" }));
    },

    links(): Promise<readonly LinkStatus[]> {
      return readLinks();
    },

    async hostname(): Promise<string> {
      return kernelHostname();
    },

    routes(): Promise<readonly RouteStatus[]> {
      return readRoutes();
    },

    dhcpLeases(): readonly DhcpLeaseStatus[] {
      return network.leases();
    },

    resolvers(): Promise<ResolverStatus> {
      return readResolvers(resolvConfPath);
    },

    readSysctls(keys: readonly string[]): Promise<Record<string, string | undefined>> {
      return readSysctls(keys);
    },

    kernel(): Promise<KernelStatus> {
      return readKernelStatus();
    },

    async loadModules(names: readonly string[], log: Logger): Promise<ModuleLoadReport> {
      return loadModules(log.child({ subsystem: "modules" }), { wanted: names, strict: true });
    },

    async setClock(unixMs: number): Promise<void> {
      setRealtimeClock(unixMs);
    },

    kernelLog(o: { follow: boolean; signal: AbortSignal; tail?: number }): AsyncIterable<KernelLogRecord> {
      return readKernelLog(o);
    },

    writeKernelLog(line: string): void {
      writeKernelLogLine(line);
    },

    inspect: {
      processes: () => readProcesses(),
      meminfo: () => readMeminfo(),
      blockDevices: async () => readBlockDevices(await readMounts()),
      sockets: () => readSockets(),
    },

    stats(): Promise<StatsSnapshot> {
      return readStats();
    },

    mounts(): Promise<readonly MountInfo[]> {
      return readMounts();
    },

    hostPath(nodePath: string): string {
      return nodePath;
    },

    firstBootConfig(log: Logger) {
      return readFirstBootConfig(log);
    },

    async powerAction(action: PowerAction, log: Logger): Promise<void> {
      reaper.close();
      network.close();
      await powerOff(action, mounts, log.child({ subsystem: "power" }));
    },
  };
}
