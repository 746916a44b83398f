// Turns samples into the summary table, the PASS/FAIL verdict, and the JSON
// results file.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { join } from "node:path";
import type { RunSample, Scenario } from "./rounds.js";
import { median, percentile, pooledSorted } from "./stats.js";

/** The target from issue 2: machined's latency within this factor of the bare server's. */
export const TARGET_RATIO = 1.2;

/** Figures for one scenario on one server, over all its rounds. */
export interface ServerFigures {
  /** Percentiles of all rounds' samples pooled. */
  p50Ms: number;
  p99Ms: number;
  /** Median over rounds. */
  requestsPerSecond: number;
  serverCpuUsPerRequest: number | null;
  rounds: { p50Ms: number; p99Ms: number; requestsPerSecond: number; serverCpuUsPerRequest: number | null; loadavg1: number }[];
}

/** machined vs bare for one scenario. */
export interface ScenarioSummary {
  id: string;
  label: string;
  requestsPerRound: number;
  machined: ServerFigures;
  bare: ServerFigures;
  /** machined / bare. */
  ratio: { p50: number; p99: number; requestsPerSecond: number; serverCpu: number | null };
  p50Pass: boolean;
  p99Pass: boolean;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function figures(samples: readonly RunSample[]): ServerFigures {
  const cpu = samples.map((s) => s.serverCpuUsPerRequest).filter((c): c is number => c !== undefined);
  const pooled = pooledSorted(samples.map((s) => s.latenciesMs));
  return {
    p50Ms: round3(percentile(pooled, 50)),
    p99Ms: round3(percentile(pooled, 99)),
    requestsPerSecond: Math.round(median(samples.map((s) => s.requestsPerSecond))),
    serverCpuUsPerRequest: cpu.length ? Math.round(median(cpu)) : null,
    rounds: samples.map((s) => {
      const sorted = Float64Array.from(s.latenciesMs).sort();
      return {
        p50Ms: round3(percentile(sorted, 50)),
        p99Ms: round3(percentile(sorted, 99)),
        requestsPerSecond: Math.round(s.requestsPerSecond),
        serverCpuUsPerRequest: s.serverCpuUsPerRequest === undefined ? null : Math.round(s.serverCpuUsPerRequest),
        loadavg1: round3(s.loadavg1),
      };
    }),
  };
}

/** Summaries per scenario, in scenario order. */
export function summarise(scenarios: readonly Scenario[], samples: readonly RunSample[]): ScenarioSummary[] {
  return scenarios.map((sc) => {
    const m = figures(samples.filter((s) => s.scenario === sc.id && s.server === "machined"));
    const b = figures(samples.filter((s) => s.scenario === sc.id && s.server === "bare"));
    const ratio = {
      p50: round3(m.p50Ms / b.p50Ms),
      p99: round3(m.p99Ms / b.p99Ms),
      requestsPerSecond: round3(m.requestsPerSecond / b.requestsPerSecond),
      serverCpu: m.serverCpuUsPerRequest !== null && b.serverCpuUsPerRequest ? round3(m.serverCpuUsPerRequest / b.serverCpuUsPerRequest) : null,
    };
    return { id: sc.id, label: sc.label, requestsPerRound: sc.total, machined: m, bare: b, ratio, p50Pass: ratio.p50 <= TARGET_RATIO, p99Pass: ratio.p99 <= TARGET_RATIO };
  });
}

/** The human-readable table. */
export function formatTable(summaries: readonly ScenarioSummary[]): string {
  const head = ["scenario", "server", "p50 ms", "p99 ms", "req/s", "srv CPU µs/req"];
  const rows: string[][] = [];
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  for (const s of summaries) {
    for (const [name, f] of [["machined", s.machined], ["bare", s.bare]] as const) {
      rows.push([s.id, name, f.p50Ms.toFixed(3), f.p99Ms.toFixed(3), String(f.requestsPerSecond), f.serverCpuUsPerRequest === null ? "-" : String(f.serverCpuUsPerRequest)]);
    }
    rows.push([
      s.id,
      "ratio m/b",
      `${s.ratio.p50.toFixed(2)}x ${verdict(s.p50Pass)}`,
      `${s.ratio.p99.toFixed(2)}x ${verdict(s.p99Pass)}`,
      `${s.ratio.requestsPerSecond.toFixed(2)}x`,
      s.ratio.serverCpu === null ? "-" : `${s.ratio.serverCpu.toFixed(2)}x`,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const out = [line(head), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const [i, r] of rows.entries()) {
    out.push(line(r));
    if (i % 3 === 2 && i < rows.length - 1) out.push("");
  }
  return out.join("\n");
}

/** One line per latency percentile: PASS only if every scenario is within the target. */
export function formatVerdict(summaries: readonly ScenarioSummary[]): string {
  const p50 = summaries.every((s) => s.p50Pass);
  const p99 = summaries.every((s) => s.p99Pass);
  return [
    `target: machined latency within ${TARGET_RATIO}x of the bare server's`,
    `  p50: ${p50 ? "PASS" : "FAIL"} (${summaries.map((s) => `${s.id} ${s.ratio.p50.toFixed(2)}x`).join(", ")})`,
    `  p99: ${p99 ? "PASS" : "FAIL"} (${summaries.map((s) => `${s.id} ${s.ratio.p99.toFixed(2)}x`).join(", ")})`,
  ].join("\n");
}

/** Where and on what the run happened. */
export function machineInfo(loadBefore: number[]): Record<string, unknown> {
  const c = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: c[0]?.model ?? "unknown",
    cpuCount: c.length,
    nodeVersion: process.version,
    os: `${type()} ${release()}`,
    totalMemMiB: Math.round(totalmem() / 2 ** 20),
    loadavgBefore: loadBefore.map(round3),
    loadavgAfter: loadavg().map(round3),
  };
}

/** Writes bench/results/<prefix>-<timestamp>.json (default prefix version-rpc); returns its path. */
export async function writeResults(repoRoot: string, doc: Record<string, unknown>, prefix = "version-rpc"): Promise<string> {
  const dir = join(repoRoot, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = join(dir, `${prefix}-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}
