// One measured Cairn boot: launch QEMU on a fresh overlay of the factory image,
// stamp console markers, poll Version (maintenance TLS) until it answers, then
// optionally configure the node and read Stats over mTLS for memory and uptime
// (uptime places the kernel's start on the host clock, splitting bootloader
// from kernel, which `quiet` hides from the console).
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadavg } from "node:os";
import type { Accel, Cleanup } from "../../src/provision/index.js";
import { launchNode } from "../../src/provision/index.js";
import {
  MachineClient,
  contextCredentials,
  currentContext,
  maintenanceChannelCredentials,
  mtlsChannelCredentials,
  readNodectlConfig,
  writeGeneratedConfig,
} from "../../src/machinery/client/index.js";
import { ConsoleWatch } from "./console-watch.js";
import { readProcTimed, statsTimed, versionOnce } from "./fresh-call.js";
import { pollOverlapping } from "./probes.js";
import { phasesFrom, type BootSample, type Marker } from "./sample.js";

/** Console markers of a Cairn boot, in boot order. */
export const CAIRN_MARKERS: readonly Marker[] = [
  { id: "firmwareDone", re: /^BdsDxe: starting Boot/, what: "OVMF starts systemd-boot (BdsDxe: starting Boot...)" },
  { id: "stage1", re: /^cairn-stage1:/, what: "first stage-1 line (kernel ran /init)" },
  { id: "machinedFirstLog", re: /^\{"level":/, what: "machined's first JSON log line (Node is PID 1)" },
  { id: "apiListening", re: /machine API listening/, what: "machined: machine API listening" },
];

export interface CairnBootOptions {
  readonly index: number;
  readonly raw: string;
  readonly workRoot: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cleanup: Cleanup;
  /** Configure the node after the measurement and read Stats (memory, uptime). */
  readonly stats: boolean;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

const fingerprintRe = /certificate fingerprint ([0-9A-F]{2}(?::[0-9A-F]{2}){31})/;

export async function bootCairn(o: CairnBootOptions): Promise<BootSample> {
  const workDir = join(o.workRoot, `cairn-${o.index}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const watch = new ConsoleWatch(join(workDir, "console.log")).start();
  const load1 = loadavg()[0] ?? 0;
  const tCall = performance.now();
  const node = o.cleanup.track(await launchNode({ name: `bench-cairn-${o.index}`, baseImage: o.raw, workDir, memoryMiB: o.memoryMiB, accel: o.accel }));
  const spawnAt = tCall + (node.timings?.prepareMs ?? 0);
  try {
    const maintenance = maintenanceChannelCredentials();
    const hit = await pollOverlapping((ms) => versionOnce(node.apiEndpoint, maintenance, ms), {
      timeoutMs: o.timeoutMs,
      abort: () => (node.isRunning() ? undefined : "QEMU exited before Version answered"),
    });
    const markers = Object.fromEntries(CAIRN_MARKERS.map((m) => [m.id, watch.first(m.re)?.atMs]));
    const sample: BootSample = {
      os: "cairn",
      index: o.index,
      loadavg1: load1,
      serviceReadyS: (hit.atMs - spawnAt) / 1000,
      launchPrepareS: (node.timings?.prepareMs ?? 0) / 1000,
      markersS: rel(markers, spawnAt),
      kernelStartS: undefined,
      phasesS: {},
      memory: undefined,
      probeAttempts: hit.attempts,
    };
    if (o.stats) {
      try {
        Object.assign(sample, await configureAndStats(node.apiEndpoint, workDir, watch, spawnAt));
      } catch (e) {
        o.log(`  cairn #${o.index}: Stats failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    sample.phasesS = phasesFrom(sample, "stage1");
    return sample;
  } catch (e) {
    const tail = (await readFile(node.consoleLog, "utf8").catch(() => "")).slice(-1500);
    throw new Error(`cairn boot #${o.index}: ${e instanceof Error ? e.message : String(e)}\nconsole tail:\n${tail}`);
  } finally {
    await watch.stop();
    await node.kill();
    await rm(workDir, { recursive: true, force: true });
  }
}

function rel(abs: Record<string, number | undefined>, zero: number): Record<string, number | null> {
  return Object.fromEntries(Object.entries(abs).map(([k, v]) => [k, v === undefined ? null : (v - zero) / 1000]));
}

/**
 * Applies a generated config over maintenance TLS pinned to the console's
 * fingerprint, waits for mTLS, and calls Stats. Uptime is taken at the call's
 * midpoint, so kernel start = midpoint - uptime on the host clock.
 */
async function configureAndStats(endpoint: string, workDir: string, watch: ConsoleWatch, spawnAt: number): Promise<Pick<BootSample, "kernelStartS" | "memory">> {
  const fp = watch.first(fingerprintRe)?.text.match(fingerprintRe)?.[1];
  if (fp === undefined) throw new Error("no maintenance fingerprint on the console");
  const cfgDir = join(workDir, "config");
  const paths = await writeGeneratedConfig(cfgDir, "bench", { endpoints: [endpoint] });
  const maint = new MachineClient(endpoint, maintenanceChannelCredentials(fp), 30_000);
  try {
    await maint.applyConfiguration({ data: await readFile(paths.nodeConfigPath) });
  } finally {
    maint.close();
  }
  const creds = mtlsChannelCredentials(contextCredentials(currentContext(await readNodectlConfig(paths.nodectlConfigPath))));
  // Stats first; if it keeps failing (on metal it answers INTERNAL "Error
  // serializing response"), the same figures from /proc over the Read RPC.
  const via = await pollOverlapping(
    async (ms) => {
      try {
        const { stats, midMs } = await statsTimed(endpoint, creds, ms);
        const m = stats.memory;
        if (m === undefined) throw new Error("Stats without memory");
        return { how: "Stats RPC (memory.total - memory.available, memory.initRss)", uptimeSeconds: stats.uptimeSeconds, midMs, total: m.total, available: m.available, rss: m.initRss, statsError: undefined as string | undefined };
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (code === 14 || code === 4) throw e; // not up yet: retry
        const p = await readProcTimed(endpoint, creds, ms);
        const kib = (text: string, key: string) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1]) * 1024;
        return { how: "Read RPC of /proc/meminfo, /proc/1/status (VmRSS) and /proc/uptime", uptimeSeconds: p.uptimeSeconds, midMs: p.midMs, total: kib(p.meminfo, "MemTotal"), available: kib(p.meminfo, "MemAvailable"), rss: kib(p.pid1Status, "VmRSS"), statsError: e instanceof Error ? e.message : String(e) };
      }
    },
    { timeoutMs: 60_000, everyMs: 250, attemptMs: 5000, maxInFlight: 2 },
  );
  const r = via.value;
  return {
    kernelStartS: (r.midMs - r.uptimeSeconds * 1000 - spawnAt) / 1000,
    memory: {
      when: `after configuring (mTLS API up), via the ${r.how}${r.statsError ? `; Stats failed: ${r.statsError}` : ""}`,
      totalBytes: r.total,
      availableBytes: r.available,
      usedBytes: r.total - r.available,
      pid1RssBytes: r.rss,
    },
  };
}
