import type { NodeView } from "./node-view.js";

/** How a whole line is drawn. */
export type LineStyle = "plain" | "title" | "node" | "dim" | "bad" | "good";

export interface ScreenLine {
  readonly text: string;
  readonly style: LineStyle;
}

export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly now: number;
  readonly intervalSeconds: number;
}

const mib = (n: number) => Math.round(n / 1048576);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

function bar(fraction: number, cells = 10): string {
  const n = Math.max(0, Math.min(cells, Math.round(fraction * cells)));
  return `[${"#".repeat(n)}${".".repeat(cells - n)}]`;
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, "0")}h`;
}

/** A log line of machined (pino JSON) as "time level component: msg"; plain text stays as it is. */
export function logSummary(message: string, timeUnixMs: number): string {
  try {
    const rec = JSON.parse(message) as { level?: number; msg?: string; component?: string };
    const level = ({ 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" } as Record<number, string>)[rec.level ?? 30] ?? "info";
    return `${clock(timeUnixMs)} ${level.padEnd(5)} ${rec.component ? `${rec.component}: ` : ""}${rec.msg ?? ""}`;
  } catch {
    return `${clock(timeUnixMs)} ${message}`;
  }
}

/** The fixed lines of one node: title, services, cpu and memory. */
function nodeHead(v: NodeView, f: Frame): ScreenLine[] {
  const ver = v.version;
  const stale = v.error !== undefined;
  const title = ver
    ? `${v.node}  ${ver.hostname || "(no hostname)"}  ${ver.osVersion}  slot ${ver.bootedSlot}  up ${duration(ver.uptimeSeconds)}  ${ver.maintenance ? "MAINTENANCE" : "configured"}  ${ver.runtimeMode}`
    : `${v.node}  (no answer yet)`;
  const lines: ScreenLine[] = [{ text: title, style: "node" }];
  if (stale) lines.push({ text: `  ${v.error}${v.lastOkAt ? `; data below from ${duration((f.now - v.lastOkAt) / 1000)} ago` : ""}`, style: "bad" });
  const dim = (style: LineStyle): LineStyle => (stale ? "dim" : style);
  if (v.services) {
    const failing = v.services.filter((s) => s.health !== "ok" && s.health !== "unknown");
    const text = `  services  ${v.services.map((s) => `${s.id} ${s.state === "Running" ? s.health : s.state.toLowerCase()}`).join("  ")}`;
    lines.push({ text, style: dim(failing.length > 0 ? "bad" : "good") });
  }
  const s = v.stats;
  if (s) {
    const m = s.memory;
    const used = (m?.total ?? 0) - (m?.available ?? 0);
    const cpu = v.cpuPercent === undefined ? "  --%" : `${v.cpuPercent.toFixed(0).padStart(3)}%`;
    const load = s.load ? `load ${s.load.load1.toFixed(2)} ${s.load.load5.toFixed(2)} ${s.load.load15.toFixed(2)}` : "";
    const memLine = m && m.total > 0 ? `mem ${bar(used / m.total)} ${mib(used)}/${mib(m.total)} MiB  init ${mib(m.initRss)} MiB` : "mem -";
    lines.push({ text: `  cpu ${bar((v.cpuPercent ?? 0) / 100)} ${cpu} of ${s.cpu?.count ?? "?"} cpus  ${load}   ${memLine}`, style: dim("plain") });
  }
  return lines;
}

/** The recent events and log lines of one node, newest last, at most `n` of each. */
function nodeRecent(v: NodeView, n: number): ScreenLine[] {
  if (n <= 0) return [];
  const style: LineStyle = v.error !== undefined ? "dim" : "plain";
  const lines: ScreenLine[] = [{ text: "  events", style: "dim" }];
  for (const e of v.events.slice(-n)) lines.push({ text: `    ${clock(e.timeUnixMs)} ${e.type.padEnd(20)} ${e.message}`, style });
  lines.push({ text: "  log machined", style: "dim" });
  for (const l of v.logs.slice(-n)) lines.push({ text: `    ${logSummary(l.message, l.timeUnixMs)}`, style });
  return lines;
}

/**
 * The whole screen for the latest views: a title line, then one block per
 * node. Height is shared between nodes: every node gets its fixed lines
 * first, and what is left is split between recent events and logs. Nodes
 * that do not fit are counted on the last line. Pure: tested without a terminal.
 */
export function renderDashboard(views: readonly NodeView[], f: Frame): ScreenLine[] {
  const up = views.filter((v) => v.version && v.error === undefined).length;
  const out: ScreenLine[] = [
    { text: `Cairn dashboard  ${up}/${views.length} nodes answering  ${clock(f.now)} UTC  every ${f.intervalSeconds}s  q quits`, style: "title" },
  ];
  const heads = views.map((v) => nodeHead(v, f));
  const fixed = heads.reduce((sum, h) => sum + h.length + 1, 0);
  // Each node shows n events and n log lines plus two sub-headers.
  const spare = f.height - 1 - fixed;
  const perNode = views.length > 0 ? Math.floor(spare / views.length) : 0;
  const n = Math.min(Math.floor((perNode - 2) / 2), 10);
  for (const [i, v] of views.entries()) {
    const block = [{ text: "", style: "plain" as const }, ...heads[i]!, ...nodeRecent(v, n)];
    if (out.length + block.length > f.height) {
      const rest = views.length - i;
      out.splice(f.height - 1);
      out.push({ text: `… ${rest} more node(s) do not fit: enlarge the terminal or pass fewer -n`, style: "dim" });
      break;
    }
    out.push(...block);
  }
  return out.slice(0, f.height).map((l) => ({ ...l, text: fit(l.text, f.width) }));
}

/** Cuts a line to the terminal width (the renderer only uses ASCII and single-width text). */
function fit(text: string, width: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > width ? `${clean.slice(0, Math.max(0, width - 1))}…` : clean;
}
