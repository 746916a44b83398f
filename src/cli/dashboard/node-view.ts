import type { Event, LogEntry, ServiceInfo, StatsResponse, VersionResponse } from "../../api/index.js";
import type { MachineClient } from "../../machinery/client/index.js";

/** What the dashboard knows about one node: the last good answers, and the last error if the latest poll failed. */
export interface NodeView {
  readonly node: string;
  readonly version?: VersionResponse;
  readonly services?: readonly ServiceInfo[];
  readonly stats?: StatsResponse;
  /** CPU busy share between the last two Stats answers, 0-100. */
  readonly cpuPercent?: number;
  readonly events: readonly Event[];
  readonly logs: readonly LogEntry[];
  /** Set when the latest poll failed; the data above is then from `lastOkAt`. */
  readonly error?: string;
  readonly lastOkAt?: number;
}

/** How many recent events and log lines one poll asks for (the renderer shows what fits). */
export const RECENT = 20;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/**
 * One refresh of one node: Version, services, stats, recent events and
 * machined's recent log, in parallel. Only a Version failure marks the node
 * unreachable; a failing part keeps its previous value.
 */
export async function pollNode(client: MachineClient, prev: NodeView, now = Date.now()): Promise<NodeView> {
  const signal = AbortSignal.timeout(15_000);
  const [version, services, stats, events, logs] = await Promise.allSettled([
    client.version(),
    client.serviceList(),
    client.stats(),
    collect(client.events({ tailEvents: RECENT, follow: false }, signal)),
    collect(client.logs({ service: "machined", tailLines: RECENT, follow: false }, signal)),
  ]);
  if (version.status === "rejected") return { ...prev, error: describeBriefly(version.reason) };
  const s = stats.status === "fulfilled" ? stats.value : prev.stats;
  const cpuPercent = stats.status === "fulfilled" && prev.stats ? cpuBusy(prev.stats, stats.value) : prev.cpuPercent;
  // A new boot starts a new event log: keep nothing from the old one.
  const sameBoot = prev.version?.bootId === version.value.bootId;
  return {
    node: prev.node,
    version: version.value,
    services: services.status === "fulfilled" ? services.value.services : prev.services,
    ...(s ? { stats: s } : {}),
    ...(cpuPercent !== undefined && sameBoot ? { cpuPercent } : {}),
    events: events.status === "fulfilled" ? events.value : sameBoot ? prev.events : [],
    logs: logs.status === "fulfilled" ? logs.value : sameBoot ? prev.logs : [],
    lastOkAt: now,
  };
}

/** Busy CPU share between two snapshots (user+system over all non-steal time); undefined without progress. */
export function cpuBusy(a: StatsResponse, b: StatsResponse): number | undefined {
  if (!a.cpu || !b.cpu) return undefined;
  const busy = b.cpu.userSeconds + b.cpu.systemSeconds - (a.cpu.userSeconds + a.cpu.systemSeconds);
  const total = busy + (b.cpu.idleSeconds + b.cpu.iowaitSeconds - (a.cpu.idleSeconds + a.cpu.iowaitSeconds));
  if (!(total > 0) || busy < 0) return undefined;
  return Math.min(100, (busy / total) * 100);
}

/** A gRPC failure as a short phrase for one screen line. */
export function describeBriefly(e: unknown): string {
  const err = e as { code?: number; details?: string; message?: string };
  const codes: Record<number, string> = { 4: "timed out", 7: "permission denied", 14: "unreachable", 16: "not authenticated" };
  const what = err.code !== undefined ? (codes[err.code] ?? `error ${err.code}`) : "error";
  return `${what}: ${err.details ?? err.message ?? String(e)}`;
}
