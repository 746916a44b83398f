// One measured boot of the Debian baseline (hack/baseline-image.sh): same
// launchNode and QEMU flags as Cairn, a host port forwarded to guest 22, and
// "ready" = sshd sends its `SSH-2.0-` banner. The image prints two console
// lines of its own (baseline-report.service): the uptime once sshd is up
// (places kernel start on the host clock) and memory once systemd reports
// the boot finished.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadavg } from "node:os";
import type { Accel, Cleanup } from "../../src/provision/index.js";
import { launchNode } from "../../src/provision/index.js";
import { ConsoleWatch } from "./console-watch.js";
import { pollOverlapping, sshBannerOnce } from "./probes.js";
import { phasesFrom, type BootSample, type Marker } from "./sample.js";

/** Console markers of a Debian boot, in boot order. */
export const DEBIAN_MARKERS: readonly Marker[] = [
  { id: "firmwareDone", re: /^BdsDxe: starting Boot/, what: "OVMF starts systemd-boot (BdsDxe: starting Boot...)" },
  { id: "initramfs", re: /^(Loading, please wait|Begin: |starting version|\[\s*\d+\.\d+\])/, what: "first initramfs-tools line (or any kernel line)" },
  { id: "sshdUp", re: /^BASELINE-SSHD /, what: "baseline-report.service after ssh.service (prints uptime, memory)" },
  { id: "login", re: /login:\s*$/, what: "serial getty login prompt" },
  { id: "settled", re: /^BASELINE-SETTLED /, what: "systemctl is-system-running --wait returned (prints memory)" },
];

export interface DebianBootOptions {
  readonly index: number;
  readonly raw: string;
  readonly workRoot: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cleanup: Cleanup;
  readonly timeoutMs: number;
  /** How long to wait after sshd for the BASELINE-SETTLED memory line. */
  readonly settleMs: number;
  readonly log: (line: string) => void;
}

export async function bootDebian(o: DebianBootOptions): Promise<BootSample> {
  const workDir = join(o.workRoot, `debian-${o.index}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const watch = new ConsoleWatch(join(workDir, "console.log")).start();
  const load1 = loadavg()[0] ?? 0;
  const tCall = performance.now();
  const node = o.cleanup.track(await launchNode({
    name: `bench-debian-${o.index}`, baseImage: o.raw, workDir, memoryMiB: o.memoryMiB, accel: o.accel,
    extraHostFwds: [{ hostPort: 0, guestPort: 22 }],
  }));
  const spawnAt = tCall + (node.timings?.prepareMs ?? 0);
  const sshPort = await sshHostPort(node.workDir);
  try {
    // sshd forks and re-execs a child per connection before the banner: under
    // TCG that alone can take seconds, so an attempt may wait 15 s for it.
    const hit = await pollOverlapping((ms, signal) => sshBannerOnce(sshPort, ms, signal), {
      timeoutMs: o.timeoutMs,
      attemptMs: 15_000,
      youngMs: 2500,
      maxOpen: 12,
      abort: () => (node.isRunning() ? undefined : "QEMU exited before sshd answered"),
    });
    // The uptime and memory lines come from the guest a moment later.
    const deadline = performance.now() + o.settleMs;
    while (watch.first(/^BASELINE-SETTLED /) === undefined && performance.now() < deadline && node.isRunning()) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const markers = Object.fromEntries(DEBIAN_MARKERS.map((m) => [m.id, watch.first(m.re)?.atMs]));
    const sshd = watch.first(/^BASELINE-SSHD uptime=([\d.]+)/);
    const upAtSshd = Number(sshd?.text.match(/uptime=([\d.]+)/)?.[1]);
    const sample: BootSample = {
      os: "debian",
      index: o.index,
      loadavg1: load1,
      serviceReadyS: (hit.atMs - spawnAt) / 1000,
      launchPrepareS: (node.timings?.prepareMs ?? 0) / 1000,
      markersS: Object.fromEntries(Object.entries(markers).map(([k, v]) => [k, v === undefined ? null : (v - spawnAt) / 1000])),
      kernelStartS: sshd !== undefined && Number.isFinite(upAtSshd) ? (sshd.atMs - upAtSshd * 1000 - spawnAt) / 1000 : undefined,
      phasesS: {},
      memory: settledMemory(watch.first(/^BASELINE-SETTLED /)?.text) ?? settledMemory(sshd?.text),
      probeAttempts: hit.attempts,
    };
    if (watch.first(/^BASELINE-SETTLED /) === undefined) o.log(`  debian #${o.index}: no BASELINE-SETTLED line within ${o.settleMs} ms of sshd; memory as of sshd start`);
    sample.phasesS = phasesFrom(sample, "initramfs");
    return sample;
  } catch (e) {
    const tail = (await readFile(node.consoleLog, "utf8").catch(() => "")).slice(-1500);
    throw new Error(`debian boot #${o.index}: ${e instanceof Error ? e.message : String(e)}\nconsole tail:\n${tail}`);
  } finally {
    await watch.stop();
    await node.kill();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The host port launchNode picked for guest 22, read back from the QEMU command line (NodeState does not record extra forwards). */
async function sshHostPort(workDir: string): Promise<number> {
  const pid = (await readFile(join(workDir, "qemu.pid"), "utf8")).trim();
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
  const m = cmdline.match(/hostfwd=tcp:127\.0\.0\.1:(\d+)-:22\b/);
  if (m?.[1] === undefined) throw new Error("no hostfwd to guest port 22 in the QEMU command line");
  return Number(m[1]);
}

function settledMemory(line: string | undefined): BootSample["memory"] {
  if (line === undefined) return undefined;
  const kib = (k: string) => Number(line.match(new RegExp(`${k}=(\\d+)`))?.[1]) * 1024;
  const total = kib("memTotalKiB");
  const avail = kib("memAvailableKiB");
  const rss = kib("pid1RssKiB");
  if (![total, avail, rss].every(Number.isFinite)) return undefined;
  const state = line.match(/state=(\S*)/)?.[1];
  const when = state === undefined ? "when sshd had started (boot not settled yet), from /proc in the guest" : `after systemctl is-system-running --wait (state ${state || "timeout"}), from /proc in the guest`;
  return { when, totalBytes: total, availableBytes: avail, usedBytes: total - avail, pid1RssBytes: rss };
}
