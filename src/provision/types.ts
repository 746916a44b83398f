/**
 * Shared types of the QEMU provisioner. Kept in one small file so the pure
 * argument builder, the launcher and the cluster store agree on one shape.
 */

/** How QEMU executes guest code: hardware virtualisation or the TCG emulator. */
export type Accel = "kvm" | "tcg";

/** One extra user-networking port forward: host 127.0.0.1:hostPort -> guest guestPort. */
export interface HostFwd {
  readonly protocol?: "tcp" | "udp";
  /** Host port on 127.0.0.1; 0 picks a free one at launch. */
  readonly hostPort: number;
  readonly guestPort: number;
}

/** One virtio NIC on a host tap device. */
export interface TapNic {
  /** Host tap device name (at most 15 bytes). */
  readonly tap: string;
  /** Guest MAC; QEMU picks one when absent. */
  readonly mac?: string;
}

/** What a caller asks for when it launches one node. Optional fields have documented defaults. */
export interface NodeLaunchSpec {
  /** Node name; used in the QEMU process name and log lines. */
  readonly name: string;
  /** Path to the raw GPT disk image; never written (nodes write to a qcow2 overlay). */
  readonly baseImage: string;
  /** Per-node directory for the overlay, OVMF VARS, console log, QMP socket and pidfile. */
  readonly workDir: string;
  /** Guest RAM; default 512 MiB (the image targets 256, the rest is headroom for upgrades). */
  readonly memoryMiB?: number;
  /** vCPUs; default 1 (the host has 2 cores and TCG runs one thread per vCPU). */
  readonly cpus?: number;
  /** Host TCP port forwarded to guest 50000; 0 or absent picks a free port. */
  readonly apiHostPort?: number;
  readonly extraHostFwds?: readonly HostFwd[];
  /**
   * Extra NICs on host tap devices (created by the caller, e.g. `ip tuntap
   * add dev X mode tap`), after the user-network NIC: the guest sees them as
   * eth1, eth2… A tap lets the host reach guest addresses that user
   * networking cannot route to.
   */
  readonly tapNics?: readonly TapNic[];
  /**
   * Start time of the guest's RTC, `YYYY-MM-DDTHH:MM:SS` (UTC); default the
   * host's clock. Tests set a wrong clock to prove that time sync fixes it.
   */
  readonly rtcBase?: string;
  /** Machine config handed to the guest as fw_cfg `opt/dev.cairn/config`. */
  readonly configFile?: string;
  /** Virtual size of the overlay; default max(base size, 4 GiB) so EPHEMERAL can grow. */
  readonly diskSizeGiB?: number;
  /** Default: detectAccel(). */
  readonly accel?: Accel;
  /** Default: `qemu-system-x86_64` from PATH. */
  readonly qemuBinary?: string;
  /** How long to wait for QMP to answer after spawn; default 15 s. */
  readonly readyTimeoutMs?: number;
}

/** OVMF firmware pair: CODE is mapped read-only, VARS is copied per node. */
export interface Firmware {
  readonly code: string;
  readonly varsTemplate: string;
}

/**
 * A launch spec with every default and path resolved: the whole input of the
 * pure `qemuArgs` builder, so argument building is testable without QEMU.
 */
export interface ResolvedLaunchSpec {
  readonly name: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly firmwareCode: string;
  readonly firmwareVars: string;
  readonly overlay: string;
  readonly apiHostPort: number;
  readonly extraHostFwds: readonly HostFwd[];
  readonly tapNics: readonly TapNic[];
  readonly rtcBase: string | undefined;
  readonly configFile: string | undefined;
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly pidFile: string;
}

/** The persisted facts about one running node; enough for another process to find and stop it. */
export interface NodeState {
  readonly name: string;
  readonly pid: number;
  /** `127.0.0.1:PORT`, forwarded to guest port 50000. */
  readonly apiEndpoint: string;
  readonly apiHostPort: number;
  readonly workDir: string;
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly pidFile: string;
  readonly overlay: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cpus: number;
}
