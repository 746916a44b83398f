import { randomUUID } from "node:crypto";
import { mkdir, readFile, readdir, statfs, writeFile } from "node:fs/promises";
import { cpus, freemem, loadavg, networkInterfaces, totalmem, uptime } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import { bootEntry, bootEntryFileName, countedBootName, entrySlot, loaderConf, parseLoaderEntry, selectDefaultEntry } from "../../machinery/boot/index.js";
import { DirBootStore } from "../dir-boot-store.js";
import { processContainerHost } from "./process-container-host.js";
// Plain /proc readers (no koffi): a process-mode node on a Linux host reads its own process tree and sockets.
import { readMeminfo, readProcesses, readSockets, socketInodes } from "../linux/inspect.js";
import { countOpenFds } from "../linux/open-fds.js";
import type {
  BootIdentity,
  ContainerHost,
  DhcpLeaseStatus,
  KernelStatus,
  LinkStatus,
  MachineInspector,
  ModuleLoadReport,
  MountInfo,
  NetworkSpec,
  Platform,
  ResolverStatus,
  RouteStatus,
  SlotName,
  StatsSnapshot,
} from "../platform.js";

export interface ProcessPlatformOptions {
  /** The node's directory: stands in for the STATE and EPHEMERAL partitions. */
  readonly dir: string;
  readonly osVersion: string;
  /**
   * A containerd already running on the host (its gRPC socket): the node
   * runs its workloads there. Without it the node has no container runtime.
   */
  readonly containerdSocket?: string | undefined;
}

/**
 * Process mode: the node runs as an ordinary host process. Its "disks" are
 * directories under `dir`; it never changes the host's hostname, network or
 * sysctls: it records what it would set, so the API and config logic run the
 * same code path as on metal without root.
 */
export class ProcessPlatform implements Platform {
  readonly mode = "process" as const;
  readonly paths;
  readonly bootStore: DirBootStore;
  /** What the node would have set on a kernel of its own (for tests and Stats). */
  readonly recorded = {
    hostname: "",
    sysctls: {} as Record<string, string>,
    network: undefined as NetworkSpec | undefined,
    modules: [] as string[],
    /** Every clock step asked for, as the offset (ms) from the host clock at the time. */
    clockSteps: [] as number[],
  };

  readonly containers: ContainerHost | undefined;

  constructor(private readonly opts: ProcessPlatformOptions) {
    this.paths = { state: join(opts.dir, "state"), ephemeral: join(opts.dir, "var") };
    this.containers = opts.containerdSocket ? processContainerHost(opts.containerdSocket, opts.dir) : undefined;
    this.bootStore = new DirBootStore({
      efiDir: async () => this.efiDir,
      rootTarget: async (slot) => join(opts.dir, "disk", `root-${slot.toLowerCase()}.squashfs`),
      releaseKeysDir: this.hostPath("/etc/cairn/release-keys"),
    });
  }

  /** The stand-in EFI partition: loader/loader.conf, loader/entries, cairn/<slot>/. */
  get efiDir(): string {
    return join(this.opts.dir, "efi");
  }

  async boot(log: Logger): Promise<BootIdentity> {
    await mkdir(this.paths.state, { recursive: true, mode: 0o700 });
    await mkdir(join(this.paths.ephemeral, "log"), { recursive: true });
    const { slot, version } = await this.firmwareBoot(log);
    const identity = { bootId: randomUUID(), slot, osVersion: version, buildId: "process", arch: process.arch === "x64" ? "amd64" : process.arch };
    log.info({ dir: this.opts.dir, bootId: identity.bootId, slot }, "process platform booted");
    return identity;
  }

  /**
   * Plays systemd-boot: on first boot writes the factory EFI contents (slot
   * A's entry, or the slot a legacy state/slot file names), then picks the
   * entry systemd-boot would (loader.conf `default cairn-*`, its sort
   * order), renames it to count the try, and "boots" its slot and version.
   */
  private async firmwareBoot(log: Logger): Promise<{ slot: SlotName; version: string }> {
    const entriesDir = join(this.efiDir, "loader", "entries");
    if ((await readdir(entriesDir).catch(() => [])).length === 0) {
      const slot = await this.readSlot();
      await mkdir(entriesDir, { recursive: true });
      await this.bootStore.writeEntry(bootEntryFileName(slot), bootEntry(slot, this.opts.osVersion));
      await writeFile(join(this.efiDir, "loader", "loader.conf"), loaderConf());
    }
    const entries = (await this.bootStore.listEntries()).flatMap((e) => parseLoaderEntry(e.file, e.text) ?? []);
    const chosen = selectDefaultEntry(entries);
    if (!chosen) throw new CairnError("FAILED_PRECONDITION", `no Cairn boot entry under ${entriesDir}`);
    const counted = countedBootName(chosen);
    if (counted !== chosen.file) await this.bootStore.renameEntry(chosen.file, counted);
    const slot = (chosen.slotOption === "B" ? "B" : chosen.slotOption === "A" ? "A" : entrySlot(chosen.id)) ?? "A";
    log.info({ entry: counted, slot }, "process firmware chose a boot entry");
    return { slot, version: chosen.version ?? this.opts.osVersion };
  }

  private async readSlot(): Promise<SlotName> {
    const text = await readFile(join(this.paths.state, "slot"), "utf8").catch(() => "A");
    return text.trim() === "B" ? "B" : "A";
  }

  async setHostname(name: string): Promise<void> {
    this.recorded.hostname = name;
  }

  async applySysctls(sysctls: Readonly<Record<string, string>>): Promise<void> {
    this.recorded.sysctls = { ...sysctls };
  }

  async configureNetwork(spec: NetworkSpec): Promise<readonly LinkStatus[]> {
    this.recorded.network = spec;
    return this.links();
  }

  /** The host's links, read-only: a process-mode node shares the host's network. */
  async links(): Promise<readonly LinkStatus[]> {
    return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
      name,
      mac: addrs?.[0]?.mac ?? "",
      up: true,
      mtu: 0,
      addresses: (addrs ?? []).map((a) => a.cidr ?? a.address),
      rxBytes: 0,
      txBytes: 0,
    }));
  }

  /** Process mode reports what it recorded: the host's own hostname, routes and sysctls are not the node's. */
  async hostname(): Promise<string> {
    return this.recorded.hostname;
  }

  async routes(): Promise<readonly RouteStatus[]> {
    return (this.recorded.network?.interfaces ?? []).flatMap((i) =>
      i.routes.map((r) => ({ destination: r.network === "default" ? "0.0.0.0/0" : r.network, gateway: r.gateway ?? "", link: i.name ?? i.mac ?? "", metric: r.metric ?? 0, family: r.network.includes(":") ? (6 as const) : (4 as const), protocol: "static", scope: r.gateway ? "universe" : "link" })),
    );
  }

  dhcpLeases(): readonly DhcpLeaseStatus[] {
    return [];
  }

  async resolvers(): Promise<ResolverStatus> {
    return { nameservers: [...(this.recorded.network?.nameservers ?? [])], search: [] };
  }

  async readSysctls(keys: readonly string[]): Promise<Record<string, string | undefined>> {
    return Object.fromEntries(keys.map((k) => [k, this.recorded.sysctls[k]]));
  }

  async kernel(): Promise<KernelStatus> {
    return { cmdline: "", modules: [...this.recorded.modules].sort() };
  }

  async loadModules(names: readonly string[]): Promise<ModuleLoadReport> {
    const fresh = names.filter((n) => !this.recorded.modules.includes(n));
    this.recorded.modules.push(...fresh);
    return { loaded: fresh, alreadyLoaded: names.filter((n) => !fresh.includes(n)), failed: [] };
  }

  /** Never touches the host clock: records the step. */
  async setClock(unixMs: number): Promise<void> {
    this.recorded.clockSteps.push(unixMs - Date.now());
  }

  // eslint-disable-next-line require-yield
  async *kernelLog(): AsyncIterable<never> {
    throw new CairnError("FAILED_PRECONDITION", "a process-mode node has no kernel of its own: dmesg is served on metal nodes only");
  }

  /** The stand-in areas, with the usage of the host file system they live on. */
  async mounts(): Promise<readonly MountInfo[]> {
    const area = async (source: string, target: string): Promise<MountInfo> => {
      const s = await statfs(source).catch(() => undefined);
      const sizes = s ? { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize } : { sizeBytes: 0, freeBytes: 0, usedBytes: 0 };
      return { source, target, fstype: "dir", options: "rw", readOnly: false, ...sizes };
    };
    return [await area(this.paths.state, "/system/state"), await area(this.paths.ephemeral, "/var")];
  }

  /**
   * The host-process equivalents of a node's machine state: this process
   * and its descendants, the host's memory, the stand-in areas as
   * "directory" devices, and this process's own sockets.
   */
  readonly inspect: MachineInspector = {
    processes: async () => {
      const all = await readProcesses();
      const mine = new Set([process.pid]);
      // Parents have lower pids most of the time, but not always: iterate to a fixed point.
      for (let grew = true; grew; ) {
        grew = false;
        for (const p of all) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = mine.add(p.pid).size > 0;
      }
      return all.filter((p) => mine.has(p.pid));
    },
    meminfo: () => readMeminfo(),
    blockDevices: async () =>
      (await this.mounts()).map((m) => ({
        name: m.source,
        type: "directory",
        parent: "",
        sizeBytes: m.sizeBytes,
        partitionNumber: 0,
        partitionLabel: m.target === "/var" ? "EPHEMERAL" : "STATE",
        readOnly: false,
        model: "",
        mountpoints: [m.target],
        fstype: m.fstype,
        fsSizeBytes: m.sizeBytes,
        fsUsedBytes: m.usedBytes,
        fsAvailableBytes: m.freeBytes,
      })),
    sockets: async () => readSockets(await socketInodes("self")),
  };

  /** Process mode has no kernel log of its own to write to. */
  writeKernelLog(): void {}

  async stats(): Promise<StatsSnapshot> {
    const [l1, l5, l15] = loadavg();
    const free = freemem();
    return {
      memory: { total: totalmem(), free, available: free, buffers: 0, cached: 0, initRss: process.memoryUsage.rss() },
      cpu: { count: cpus().length, user: 0, system: 0, idle: 0, iowait: 0 },
      load: { load1: l1 ?? 0, load5: l5 ?? 0, load15: l15 ?? 0 },
      disks: [],
      mounts: await this.mounts(),
      network: await this.links(),
      uptimeSeconds: uptime(),
      initOpenFds: await countOpenFds(),
    };
  }

  hostPath(nodePath: string): string {
    for (const [prefix, target] of [
      ["/var", this.paths.ephemeral],
      ["/system/state", this.paths.state],
      ["/proc", "/proc"],
    ] as const) {
      if (nodePath === prefix || nodePath.startsWith(`${prefix}/`)) return target + nodePath.slice(prefix.length);
    }
    return join(this.opts.dir, "rootfs", nodePath);
  }

  /** Process mode never powers off the host: the node loop restarts or exits instead. */
  async powerAction(): Promise<void> {}
}
