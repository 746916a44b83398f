import type { ServiceInfo } from "../../api/index.js";
import type { LogShipper } from "./log-shipper.js";

/**
 * The log shipper as ServiceList shows it: one line per destination with its
 * connection state and the sent and dropped counts, so an operator sees a
 * collector that is down (and how much was lost) without reading logs.
 */
export function shipperServiceInfo(shipper: LogShipper, sinceUnixMs: number): ServiceInfo {
  const all = shipper.status();
  if (all.length === 0) return { id: "log-shipper", state: "Stopped", health: "ok", message: "no log destinations", pid: process.pid, restarts: 0, sinceUnixMs };
  const down = all.filter((s) => s.state === "backoff" || s.state === "connecting");
  const message = all
    .map((s) => `${s.endpoint} ${s.state} sent=${s.sent} dropped=${s.dropped} queued=${s.queued}${s.lastError && s.state !== "connected" ? ` (${s.lastError})` : ""}`)
    .join("; ");
  return { id: "log-shipper", state: "Running", health: down.length > 0 ? "failing" : "ok", message, pid: process.pid, restarts: 0, sinceUnixMs };
}
