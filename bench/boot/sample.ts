// The record of one measured boot and how it splits into phases. Shared by
// the Cairn and Debian runners so the report treats both the same way.

/** A console line that marks a boot milestone. */
export interface Marker {
  readonly id: string;
  readonly re: RegExp;
  readonly what: string;
}

/** Memory once the node is up, as the guest kernel reports it. */
export interface MemorySample {
  readonly when: string;
  readonly totalBytes: number;
  readonly availableBytes: number;
  /** MemTotal - MemAvailable. */
  readonly usedBytes: number;
  readonly pid1RssBytes: number;
}

/** One boot; every time in seconds from QEMU's spawn. */
export interface BootSample {
  readonly os: "cairn" | "debian";
  readonly index: number;
  /** Host 1-minute load average when the boot started. */
  readonly loadavg1: number;
  /** Spawn until the service answered (Version RPC / SSH banner). */
  readonly serviceReadyS: number;
  /** launchNode's work before spawn (overlay, VARS copy, port): not in serviceReadyS. */
  readonly launchPrepareS: number;
  /** Host time each console marker first appeared; null if it never did. */
  readonly markersS: Record<string, number | null>;
  /** Kernel start on the host clock: (host time of an uptime reading) - uptime. */
  kernelStartS: number | undefined;
  phasesS: Record<string, number>;
  memory: MemorySample | undefined;
  readonly probeAttempts: number;
}

/** Phase names, in boot order, with what bounds each. */
export const PHASES = {
  firmware: "QEMU spawn -> OVMF starts the loader (BdsDxe: starting Boot...)",
  bootloader: "-> kernel start (uptime 0, from an uptime reading)",
  kernel: "kernel start -> first userspace line (Cairn: cairn-stage1; Debian: initramfs)",
  firmwareToUserspace: "QEMU spawn -> first userspace line (firmware + bootloader + kernel)",
  userspaceToService: "first userspace line -> service answers (Cairn: stage1 + Node + machined; Debian: initramfs + systemd + sshd)",
  kernelToService: "kernel start -> service answers (kernel + all of userspace; the Debian initramfs prints nothing under quiet)",
} as const;

/**
 * Splits a boot into PHASES. `userspace` is the marker id of the first line a
 * userspace program prints. Phases whose bounds are missing are left out.
 */
export function phasesFrom(s: BootSample, userspace: string): Record<string, number> {
  const fw = s.markersS["firmwareDone"] ?? null;
  const us = s.markersS[userspace] ?? null;
  const k = s.kernelStartS;
  const out: Record<string, number> = {};
  const put = (name: keyof typeof PHASES, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) out[name] = Math.round(v * 1000) / 1000;
  };
  put("firmware", fw);
  if (k !== undefined && fw !== null) put("bootloader", k - fw);
  if (k !== undefined && us !== null) put("kernel", us - k);
  put("firmwareToUserspace", us);
  if (us !== null) put("userspaceToService", s.serviceReadyS - us);
  if (k !== undefined) put("kernelToService", s.serviceReadyS - k);
  return out;
}
