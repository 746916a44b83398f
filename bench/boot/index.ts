// The boot benchmark of issue 3: Cairn (factory image, maintenance mode) vs a
// debootstrapped Debian 12 baseline, both booted from a UEFI GPT disk by the
// same launchNode (OVMF + systemd-boot, TCG, -m 256), one VM at a time,
// alternating OS each round so host load drifts hit both alike.
// Method and latest numbers: docs/boot-performance.md.
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { cleanupOnExit, detectAccel } from "../../src/provision/index.js";
import { machineInfo, writeResults } from "../report.js";
import { bootCairn, CAIRN_MARKERS } from "./cairn-boot.js";
import { bootDebian, DEBIAN_MARKERS } from "./debian-boot.js";
import { buildCairnImage, buildDebianImage, type BuiltImage } from "./images.js";
import { formatBootTable, formatTargets, summariseOs, targets, TARGETS } from "./report.js";
import { PHASES, type BootSample } from "./sample.js";

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

export interface BootBenchOptions {
  readonly repoRoot: string;
  readonly log: (line: string) => void;
}

/** Runs the boot benchmark, prints the tables to stdout, writes bench/results/boot-*.json; returns its path. */
export async function runBootBench({ repoRoot, log }: BootBenchOptions): Promise<string> {
  const boots = env("BENCH_BOOTS", 5);
  const debianBoots = env("BENCH_DEBIAN_BOOTS", boots);
  const minDebianBoots = Math.min(3, debianBoots);
  const budgetS = env("BENCH_BOOT_BUDGET_S", 690);
  const timeoutMs = env("BENCH_BOOT_TIMEOUT_S", 150) * 1000;
  const memoryMiB = TARGETS.memoryMiB;
  const loadBefore = loadavg();
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;

  log("boot: building the Cairn image (dist/bench) and the Debian baseline (.cache/baseline)...");
  const cairnImage = await buildCairnImage(repoRoot, "0.1.0");
  let debianImage: BuiltImage | null = null;
  let debianWhyNot: string | null = null;
  try {
    debianImage = await buildDebianImage(repoRoot);
  } catch (e) {
    debianWhyNot = e instanceof Error ? e.message : String(e);
    log(`boot: Debian baseline unavailable: ${debianWhyNot}`);
  }
  const accel = await detectAccel();
  log(`boot: images ready after ${elapsedS().toFixed(1)} s; accel ${accel}; ${boots} Cairn + up to ${debianImage ? debianBoots : 0} Debian boots, -m ${memoryMiB}`);

  const cleanup = cleanupOnExit();
  const workRoot = await mkdtemp(join(tmpdir(), "cairn-bench-boot-"));
  const cairn: BootSample[] = [];
  const debian: BootSample[] = [];
  const failures: string[] = [];
  let debianCutShort: string | null = null;
  try {
    for (let i = 1; i <= Math.max(boots, debianImage ? debianBoots : 0); i++) {
      if (i <= boots) {
        try {
          const s = await bootCairn({ index: i, raw: cairnImage.raw, workRoot, accel, memoryMiB, cleanup, stats: true, timeoutMs, log });
          cairn.push(s);
          log(`  cairn  #${i}: API ${s.serviceReadyS.toFixed(2)} s (stage1 ${fmt(s.markersS["stage1"])}, kernel start ${fmt(s.kernelStartS)}; load ${s.loadavg1.toFixed(2)})`);
        } catch (e) {
          failures.push(e instanceof Error ? e.message : String(e));
          log(`  cairn  #${i}: FAILED ${failures.at(-1)?.split("\n")[0]}`);
        }
      }
      if (debianImage !== null && i <= debianBoots) {
        // Keep the whole bench inside its budget: Debian drops to 3 boots if needed.
        // Failed boots count as tried and as costing the whole timeout.
        const debianTried = i - 1;
        const perBoot = debian.length < debianTried ? timeoutMs / 1000 : debian.length ? Math.max(...debian.map((d) => d.serviceReadyS)) + 15 : 90;
        const cairnLeft = Math.max(0, boots - i) * (cairn.length ? Math.max(...cairn.map((c) => c.serviceReadyS)) + 30 : 80);
        if (debianTried >= minDebianBoots && elapsedS() + perBoot + cairnLeft > budgetS) {
          debianCutShort ??= `stopped after ${debianTried} Debian boots (${debian.length} succeeded) to stay within the ${budgetS} s budget`;
          continue;
        }
        try {
          const s = await bootDebian({ index: i, raw: debianImage.raw, workRoot, accel, memoryMiB, cleanup, timeoutMs, settleMs: 15_000, log });
          debian.push(s);
          log(`  debian #${i}: sshd ${s.serviceReadyS.toFixed(2)} s (initramfs ${fmt(s.markersS["initramfs"])}, kernel start ${fmt(s.kernelStartS)}; load ${s.loadavg1.toFixed(2)})`);
        } catch (e) {
          failures.push(e instanceof Error ? e.message : String(e));
          log(`  debian #${i}: FAILED ${failures.at(-1)?.split("\n")[0]}`);
        }
      }
    }
  } finally {
    await cleanup.run();
    await rm(workRoot, { recursive: true, force: true });
  }
  if (cairn.length === 0) throw new Error(`no Cairn boot succeeded:\n${failures.join("\n\n")}`);
  if (debianCutShort) log(`boot: ${debianCutShort}`);

  const cairnSum = summariseOs(cairn, cairnImage.sizes);
  const debianSum = debian.length ? summariseOs(debian, debianImage?.sizes ?? null) : null;
  if (debianImage !== null && debian.length === 0) debianWhyNot = `every Debian boot failed: ${failures.filter((f) => f.startsWith("debian")).join(" / ")}`;
  const servedIn256 = cairn.length === boots && cairn.every((s) => s.memory !== undefined);
  const verdicts = targets(cairnSum, debianSum, servedIn256);
  const machine = machineInfo(loadBefore);
  const path = await writeResults(repoRoot, {
    benchmark: "boot",
    machine,
    method: {
      accel,
      memoryMiB,
      qemu: "src/provision launchNode: q35, -cpu max, OVMF pflash, virtio-blk on a fresh qcow2 overlay per boot, user net with hostfwd, serial to a file, 1 vCPU",
      order: "one VM at a time, Cairn then Debian in each round",
      zero: "QEMU spawn (launchNode's start + its prepareMs)",
      cairnReady: "first Version RPC answer over maintenance TLS (overlapping attempts every 200 ms, at most 5 open, each on a fresh channel with a 2.5 s deadline)",
      debianReady: "first SSH-2.0- banner on the port forwarded to guest 22 (overlapping attempts every 200 ms, at most 5 younger than 2.5 s and 12 open, each waits up to 15 s for the banner)",
      consoleStamps: "console file tailed every 10 ms; each line stamped with the host clock when first seen",
      kernelStart: "Cairn: after the measurement the node is configured (generated config, pinned maintenance TLS) and Stats is called over mTLS; kernel start = call midpoint - uptimeSeconds. Debian: baseline-report.service prints /proc/uptime after ssh.service; kernel start = host stamp of that line - uptime",
      memory: "Cairn: Stats RPC after configuring (memory.total - memory.available, memory.initRss). Debian: /proc/meminfo and /proc/1/status printed after systemctl is-system-running --wait",
      phases: PHASES,
      markers: { cairn: CAIRN_MARKERS.map((m) => ({ id: m.id, re: String(m.re), what: m.what })), debian: DEBIAN_MARKERS.map((m) => ({ id: m.id, re: String(m.re), what: m.what })) },
      targets: TARGETS,
    },
    images: { cairn: { ...cairnImage.sizes, ...cairnImage.detail, buildSeconds: cairnImage.buildSeconds }, debian: debianImage ? { ...debianImage.sizes, ...debianImage.detail, buildSeconds: debianImage.buildSeconds } : null },
    cairn: cairnSum,
    debian: debianSum,
    debianWhyNot,
    debianCutShort,
    targets: verdicts,
    samples: { cairn, debian },
    failures,
    durationSeconds: Math.round(elapsedS()),
  }, "boot");
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  process.stdout.write(`\nBoot to service, ${accel.toUpperCase()}, -m ${memoryMiB}, fresh overlay per boot (load ${load(loadBefore)} -> ${load(loadavg())}; ${String(machine["cpuCount"])}x ${String(machine["cpuModel"])})\n\n`);
  process.stdout.write(`${formatBootTable(cairnSum, debianSum, debianWhyNot)}\n\n${formatTargets(verdicts)}\n`);
  if (debianCutShort) process.stdout.write(`\nnote: ${debianCutShort}\n`);
  if (failures.length) process.stdout.write(`\n${failures.length} boot(s) failed; see "failures" in the results file\n`);
  process.stdout.write(`\nresults: ${path} (${Math.round(elapsedS())} s)\n`);
  return path;
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined ? "-" : `${x.toFixed(2)} s`;
}
