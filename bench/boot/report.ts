// Boot benchmark summary: medians per OS, the Cairn-vs-Debian table and the
// issue 3 targets, each marked PASS or FAIL (or N/A when not measured).
import { median } from "../stats.js";
import type { ImageSizes } from "./images.js";
import { PHASES, type BootSample } from "./sample.js";

/** Issue 3 targets. */
export const TARGETS = {
  bootToApiS: 8,
  pid1RssBytes: 64 * 2 ** 20,
  payloadBytes: 50e6,
  memoryMiB: 256,
} as const;

export interface OsSummary {
  readonly boots: number;
  readonly serviceReadyS: { median: number; min: number; max: number; all: number[] };
  readonly phasesMedianS: Record<string, number>;
  readonly markersMedianS: Record<string, number>;
  readonly kernelStartMedianS: number | null;
  readonly memoryMedian: { usedBytes: number; pid1RssBytes: number; totalBytes: number; samples: number; when: string } | null;
  readonly sizes: ImageSizes | null;
}

export type Verdict = "PASS" | "FAIL" | "N/A";

export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly verdict: Verdict;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function medianOf(samples: readonly BootSample[], pick: (s: BootSample) => number | null | undefined): number | null {
  const xs = samples.map(pick).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return xs.length ? r3(median(xs)) : null;
}

export function summariseOs(samples: readonly BootSample[], sizes: ImageSizes | null): OsSummary {
  const ready = samples.map((s) => s.serviceReadyS);
  const keys = (f: (s: BootSample) => Record<string, unknown>) => [...new Set(samples.flatMap((s) => Object.keys(f(s))))];
  const phases = Object.fromEntries(
    Object.keys(PHASES).flatMap((k) => {
      const m = medianOf(samples, (s) => s.phasesS[k]);
      return m === null ? [] : [[k, m]];
    }),
  );
  const markers = Object.fromEntries(keys((s) => s.markersS).flatMap((k) => {
    const m = medianOf(samples, (s) => s.markersS[k]);
    return m === null ? [] : [[k, m]];
  }));
  const mem = samples.flatMap((s) => (s.memory ? [s.memory] : []));
  return {
    boots: samples.length,
    serviceReadyS: { median: r3(median(ready)), min: r3(Math.min(...ready)), max: r3(Math.max(...ready)), all: ready.map(r3) },
    phasesMedianS: phases,
    markersMedianS: markers,
    kernelStartMedianS: medianOf(samples, (s) => s.kernelStartS),
    memoryMedian: mem.length === 0 ? null : {
      usedBytes: median(mem.map((m) => m.usedBytes)),
      pid1RssBytes: median(mem.map((m) => m.pid1RssBytes)),
      totalBytes: median(mem.map((m) => m.totalBytes)),
      samples: mem.length,
      when: mem[0]?.when ?? "",
    },
    sizes,
  };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "FAIL");

export function targets(cairn: OsSummary, debian: OsSummary | null, servedIn256: boolean): TargetResult[] {
  const c = cairn.serviceReadyS.median;
  const rss = cairn.memoryMedian?.pid1RssBytes;
  return [
    { target: `Cairn boot to API <= ${TARGETS.bootToApiS} s (median, from disk)`, measured: `${c.toFixed(2)} s`, verdict: verdict(c <= TARGETS.bootToApiS) },
    debian === null
      ? { target: "Cairn boots faster than Debian", measured: "Debian baseline not measured", verdict: "N/A" }
      : { target: "Cairn boots faster than Debian", measured: `${c.toFixed(2)} s vs ${debian.serviceReadyS.median.toFixed(2)} s`, verdict: verdict(c < debian.serviceReadyS.median) },
    rss === undefined
      ? { target: "PID 1 RSS <= 64 MiB", measured: "Stats not measured", verdict: "N/A" }
      : { target: "PID 1 RSS <= 64 MiB", measured: mib(rss), verdict: verdict(rss <= TARGETS.pid1RssBytes) },
    cairn.sizes === null
      ? { target: "per-slot payload <= 50 MB", measured: "unknown", verdict: "N/A" }
      : { target: "per-slot payload <= 50 MB", measured: `${mb(cairn.sizes.payload)} (${mib(cairn.sizes.payload)})`, verdict: verdict(cairn.sizes.payload <= TARGETS.payloadBytes) },
    { target: "serves in 256 MiB of RAM", measured: servedIn256 ? `all ${cairn.boots} boots answered with -m 256` : "not every boot answered with -m 256", verdict: verdict(servedIn256) },
  ];
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

/** The side-by-side table (seconds, bytes) as plain text. */
export function formatBootTable(cairn: OsSummary, debian: OsSummary | null, debianWhyNot: string | null): string {
  const s = (x: number | null | undefined) => (x === null || x === undefined ? "-" : `${x.toFixed(2)} s`);
  const b = (x: number | null | undefined, f: (n: number) => string) => (x === null || x === undefined ? "-" : f(x));
  const rows: string[][] = [["", `Cairn (n=${cairn.boots})`, debian ? `Debian 12 (n=${debian.boots})` : "Debian 12"]];
  const both = (label: string, f: (o: OsSummary) => string) => rows.push([label, f(cairn), debian ? f(debian) : "-"]);
  both("boot to service (median)", (o) => s(o.serviceReadyS.median));
  both("  min .. max", (o) => `${o.serviceReadyS.min.toFixed(1)} .. ${o.serviceReadyS.max.toFixed(1)} s`);
  both("  firmware (-> BdsDxe starts loader)", (o) => s(o.phasesMedianS["firmware"]));
  both("  bootloader (-> kernel start)", (o) => s(o.phasesMedianS["bootloader"]));
  both("  kernel (-> first userspace line)", (o) => s(o.phasesMedianS["kernel"]));
  both("  userspace -> service answers", (o) => s(o.phasesMedianS["userspaceToService"]));
  both("  (kernel start -> service answers)", (o) => s(o.phasesMedianS["kernelToService"]));
  both("raw image allocated", (o) => b(o.sizes?.rawAllocated, mib));
  both("payload kernel+initramfs+rootfs", (o) => b(o.sizes?.payload, mb));
  both("  kernel / initramfs", (o) => (o.sizes ? `${mb(o.sizes.kernel)} / ${mb(o.sizes.initramfs)}` : "-"));
  both("  root file system", (o) => b(o.sizes?.rootfs, mb));
  both("MemTotal - MemAvailable", (o) => b(o.memoryMedian?.usedBytes, mib));
  both("PID 1 RSS", (o) => b(o.memoryMedian?.pid1RssBytes, mib));
  both("MemTotal (guest -m 256)", (o) => b(o.memoryMedian?.totalBytes, mib));
  let text = pad(rows);
  if (debian === null && debianWhyNot !== null) text += `\n\nDebian baseline not measured: ${debianWhyNot}`;
  return text;
}

export function formatTargets(results: readonly TargetResult[]): string {
  return pad([["target", "measured", "verdict"], ...results.map((t) => [t.target, t.measured, t.verdict])]);
}
