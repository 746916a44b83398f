import { CairnError } from "../../errors/index.js";

/** Where a log destination is: transport, host (IPv6 without brackets) and port. */
export interface LogEndpoint {
  readonly transport: "tcp" | "udp";
  readonly host: string;
  readonly port: number;
  /** The endpoint as the config wrote it, e.g. "tcp://10.0.2.2:5170". */
  readonly text: string;
}

/** Parses "tcp://host:port" or "udp://[v6]:port" (the config schema already checked the shape). */
export function parseLogEndpoint(text: string): LogEndpoint {
  const m = /^(tcp|udp):\/\/(\[[^\]]+\]|[^/:[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) {
    throw new CairnError("INVALID_ARGUMENT", `log destination "${text}" must be tcp://host:port or udp://host:port with a port 1-65535`);
  }
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  return { transport: m[1] as "tcp" | "udp", host, port, text };
}
