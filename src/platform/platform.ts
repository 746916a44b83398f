/**
 * The Platform contract: the ONLY way the node runtime reaches the kernel or
 * the host. Two implementations share it: `linux` (PID 1 in a VM, real
 * syscalls through koffi) and `process` (an ordinary host process whose
 * "disks" are directories). Everything above this module is testable on the host.
 */
import type { Logger } from "pino";

export type RuntimeMode = "metal" | "process";
export type SlotName = "A" | "B";

/** What booted: proved by tests after every reboot, upgrade and rollback. */
export interface BootIdentity {
  readonly bootId: string;
  readonly slot: SlotName;
  readonly osVersion: string;
  readonly buildId: string;
  readonly arch: string;
}

/** Where the writable areas live on this platform. */
export interface PlatformPaths {
  /** STATE partition mount: machine config and node identity. */
  readonly state: string;
  /** EPHEMERAL partition mount (/var on metal): logs, workload data. */
  readonly ephemeral: string;
}

export interface InterfaceSpec {
  readonly name?: string | undefined;
  readonly mac?: string | undefined;
  /** false sets the link administratively down; absent or true brings it up. */
  readonly up?: boolean | undefined;
  readonly dhcp: boolean;
  readonly addresses: readonly string[];
  readonly routes: readonly { network: string; gateway?: string | undefined; metric?: number | undefined }[];
  readonly mtu?: number | undefined;
}

export interface NetworkSpec {
  readonly interfaces: readonly InterfaceSpec[];
  readonly nameservers: readonly string[];
}

export interface LinkStatus {
  readonly name: string;
  readonly mac: string;
  readonly up: boolean;
  readonly mtu: number;
  readonly addresses: readonly string[];
  readonly rxBytes: number;
  readonly txBytes: number;
}

/** One route of the main table, as the kernel reports it. */
export interface RouteStatus {
  /** `0.0.0.0/0` for the default route. */
  readonly destination: string;
  /** Empty for on-link routes. */
  readonly gateway: string;
  readonly link: string;
  readonly metric: number;
  readonly family: 4 | 6;
  /** Who added it: kernel (from an address), static (Cairn), boot, or a number. */
  readonly protocol: string;
  /** universe, link, host or a number. */
  readonly scope: string;
}

/** A DHCPv4 lease the node holds. */
export interface DhcpLeaseStatus {
  readonly link: string;
  readonly address: string;
  readonly server: string;
  readonly router: string;
  readonly leaseSeconds: number;
  readonly grantedUnixMs: number;
  /** T1 and T2 as wall-clock times. */
  readonly renewUnixMs: number;
  readonly rebindUnixMs: number;
  readonly phase: "bound" | "renewing" | "rebinding" | "expired";
}

/** What resolv.conf says now. */
export interface ResolverStatus {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
}

/** The running kernel: its command line and loaded modules. */
export interface KernelStatus {
  readonly cmdline: string;
  readonly modules: readonly string[];
}

/** What loading kernel modules did. */
export interface ModuleLoadReport {
  readonly loaded: readonly string[];
  readonly alreadyLoaded: readonly string[];
  readonly failed: readonly { name: string; error: string }[];
}

export interface KernelLogRecord {
  readonly seq: number;
  readonly facility: number;
  readonly priority: number;
  readonly monotonicUs: number;
  readonly message: string;
}

export interface MountInfo {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  readonly options: string;
  readonly readOnly: boolean;
  readonly sizeBytes: number;
  /** Space an unprivileged writer could still use (statfs bavail). */
  readonly freeBytes: number;
  /** Space in use (statfs blocks - bfree). */
  readonly usedBytes: number;
}

export interface StatsSnapshot {
  readonly memory: { total: number; free: number; available: number; buffers: number; cached: number; initRss: number };
  /** CPU time in seconds since boot, summed over CPUs. */
  readonly cpu: { count: number; user: number; system: number; idle: number; iowait: number };
  readonly load: { load1: number; load5: number; load15: number };
  readonly disks: readonly { name: string; sizeBytes: number; readBytes: number; writtenBytes: number }[];
  readonly mounts: readonly MountInfo[];
  readonly network: readonly LinkStatus[];
  readonly uptimeSeconds: number;
  /** Open file descriptors of the node runtime itself. */
  readonly initOpenFds: number;
}

/** One process, as `ps` would show it. */
export interface ProcessSnapshot {
  readonly pid: number;
  readonly ppid: number;
  /** One-letter kernel state (R, S, D, Z, T, I). */
  readonly state: string;
  readonly name: string;
  /** Arguments joined by spaces; empty for kernel threads. */
  readonly cmdline: string;
  readonly rssBytes: number;
  /** User plus system CPU time. */
  readonly cpuSeconds: number;
  readonly threads: number;
  /** Start time in seconds since boot. */
  readonly startSeconds: number;
}

/** A disk or partition with its GPT label and, when mounted, its file system's usage. */
export interface BlockDeviceSnapshot {
  readonly name: string;
  /** "disk", "partition", or "directory" for a process-mode stand-in area. */
  readonly type: string;
  readonly parent: string;
  readonly sizeBytes: number;
  readonly partitionNumber: number;
  readonly partitionLabel: string;
  readonly readOnly: boolean;
  readonly model: string;
  readonly mountpoints: readonly string[];
  readonly fstype: string;
  readonly fsSizeBytes: number;
  readonly fsUsedBytes: number;
  readonly fsAvailableBytes: number;
}

/** One TCP or UDP socket from /proc/net. */
export interface SocketSnapshot {
  readonly protocol: "tcp" | "tcp6" | "udp" | "udp6";
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: string;
  readonly inode: number;
  readonly uid: number;
  readonly txQueueBytes: number;
  readonly rxQueueBytes: number;
}

/**
 * Machine state for the inspection RPCs (ps, free, lsblk, findmnt, ss).
 * Metal reads the node's kernel; process mode answers for the host process
 * (its own process tree and sockets, the host's memory, its stand-in areas).
 */
export interface MachineInspector {
  processes(): Promise<readonly ProcessSnapshot[]>;
  /** /proc/meminfo in bytes (counts stay counts), keyed by field name. */
  meminfo(): Promise<ReadonlyMap<string, number>>;
  blockDevices(): Promise<readonly BlockDeviceSnapshot[]>;
  sockets(): Promise<readonly SocketSnapshot[]>;
}

/** A byte range of a file: one part of a spooled upgrade bundle. */
export interface FileRange {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

/** One file of loader/entries on the EFI partition. */
export interface EntryFile {
  readonly file: string;
  readonly text: string;
}

/**
 * The boot partition (systemd-boot entries, kernels, initramfs) and the two
 * root slots: what upgrades, blessing and rollback read and write. Every
 * write is fsynced before it returns; entry writes are atomic (temp file,
 * fsync, rename, fsync of the renamed file and of the directory: vfat
 * writes a renamed entry's cluster and size only with the file's inode).
 */
export interface BootStore {
  /** Release public keys (PEM) the running image trusts (/etc/cairn/release-keys/*.pem). */
  releaseKeys(): Promise<string[]>;
  /** Every `.conf` under loader/entries with its text. */
  listEntries(): Promise<EntryFile[]>;
  writeEntry(file: string, text: string): Promise<void>;
  renameEntry(from: string, to: string): Promise<void>;
  removeEntry(file: string): Promise<void>;
  /** Copies `src` to a path on the EFI partition, e.g. `cairn/b/vmlinuz`. */
  writeBootFile(rel: string, src: FileRange): Promise<void>;
  /** Writes `src` raw onto the slot's root partition (ROOT-<slot>). */
  writeRootSlot(slot: SlotName, src: FileRange): Promise<void>;
  /** Size in bytes of the slot's root partition; undefined when it has no fixed size (process mode). */
  rootSlotCapacity(slot: SlotName): Promise<number | undefined>;
  /** Bytes an upgrade may write under `rel` on the EFI partition: free space plus what the files already there take (they are replaced). */
  bootSpaceFor(rel: string): Promise<number>;
}

/**
 * How the node gets a containerd: it starts its own (metal: the image's
 * binary, supervised by machined), or it uses one that already runs
 * (process mode on a host with containerd, for integration tests).
 */
export type ContainerdLaunch =
  | {
      readonly kind: "spawn";
      readonly binary: string;
      /** Images, content and snapshots (on EPHEMERAL, so they survive reboots). */
      readonly root: string;
      /** Runtime state (tmpfs). */
      readonly state: string;
      readonly socket: string;
      /** Where the generated config.toml is written. */
      readonly configPath: string;
    }
  | { readonly kind: "external"; readonly socket: string };

/** A child process the node supervises (containerd), spawned so the orphan reaper never steals it. */
export interface SupervisedChild {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  kill(signal: NodeJS.Signals): void;
  once(event: "exit", fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: "error", fn: (err: Error) => void): unknown;
}

/** What the platform gives the node to run containers. */
export interface ContainerHost {
  readonly launch: ContainerdLaunch;
  /** containerd namespace of every Cairn workload. */
  readonly namespace: string;
  /** cgroup parent of every workload (cgroupfs path, e.g. /cairn). */
  readonly cgroupParent: string;
  /** Directory of the workload output fifos. */
  readonly fifoDir: string;
  /** Readies the kernel and directories for containerd (cgroup controllers, root dir). Idempotent. */
  prepare(log: Logger): Promise<void>;
  /** Spawns a long-running child with piped stdout/stderr and the given environment. */
  spawn(cmd: string, args: readonly string[], env: Readonly<Record<string, string>>): SupervisedChild;
  /** mkfifo(3). */
  makeFifo(path: string): Promise<void>;
}

/** How the node ends a boot. */
export type PowerAction = "reboot" | "poweroff";

export interface Platform {
  readonly mode: RuntimeMode;
  readonly paths: PlatformPaths;
  /** Boot entries and root slots (the EFI partition is mounted read-write on first use). */
  readonly bootStore: BootStore;

  /** Early boot: pseudo file systems, modules, partitions, entropy. Idempotent. */
  boot(log: Logger): Promise<BootIdentity>;

  setHostname(name: string): Promise<void>;
  applySysctls(sysctls: Readonly<Record<string, string>>): Promise<void>;
  configureNetwork(spec: NetworkSpec, log: Logger): Promise<readonly LinkStatus[]>;
  links(): Promise<readonly LinkStatus[]>;

  /** The kernel's hostname (uname nodename). */
  hostname(): Promise<string>;
  /** Main-table routes read back from the kernel (rtnetlink). */
  routes(): Promise<readonly RouteStatus[]>;
  /** DHCP leases held now. */
  dhcpLeases(): readonly DhcpLeaseStatus[];
  /** Nameservers and search domains as written to resolv.conf. */
  resolvers(): Promise<ResolverStatus>;
  /** Current values from /proc/sys; undefined for a key the kernel does not have. */
  readSysctls(keys: readonly string[]): Promise<Record<string, string | undefined>>;
  /** /proc/cmdline and /proc/modules. */
  kernel(): Promise<KernelStatus>;
  /** Loads modules and their dependencies in modules.dep order; a module the kernel lacks is reported, not thrown. */
  loadModules(names: readonly string[], log: Logger): Promise<ModuleLoadReport>;
  /** Steps CLOCK_REALTIME to a Unix time in ms (clock_settime). */
  setClock(unixMs: number): Promise<void>;


  /**
   * Kernel log records; `follow` keeps yielding until the signal aborts.
   * `tail` (> 0) yields only the last N records already in the buffer, then
   * (following) every new one.
   */
  kernelLog(opts: { follow: boolean; signal: AbortSignal; tail?: number }): AsyncIterable<KernelLogRecord>;
  /**
   * Writes one line into the kernel log (/dev/kmsg), so node events show in
   * dmesg and on the console next to the kernel's own messages. Best effort;
   * process mode has no kernel of its own and drops it.
   */
  writeKernelLog(line: string): void;
  /** ps, free, lsblk, ss: see MachineInspector. */
  readonly inspect: MachineInspector;
  stats(): Promise<StatsSnapshot>;
  mounts(): Promise<readonly MountInfo[]>;

  /**
   * Maps a node path as the API names it ("/proc/mounts", "/var/log") to the
   * path this process must open. Identity on metal; process mode maps /var
   * and /system/state into its state directory.
   */
  hostPath(nodePath: string): string;

  /**
   * A machine config handed to the node from outside at first boot (QEMU
   * fw_cfg, a kernel command-line URL), if the platform has such sources.
   */
  firstBootConfig?(log: Logger): Promise<{ source: string; text: string } | undefined>;

  /** The container runtime's host side; absent when this node cannot run containers (process mode without a containerd). */
  readonly containers?: ContainerHost;

  /** Stop-the-world end of a boot: sync, unmount in reverse, reboot(2)/power off. */
  powerAction(action: PowerAction, log: Logger): Promise<void>;
}
