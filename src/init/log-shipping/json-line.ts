import type { LogLine } from "../log-store.js";

/** Longest message shipped, in characters: one line must fit a UDP datagram. */
export const MAX_MESSAGE_CHARS = 16_384;

/** pino's own bookkeeping keys: replaced by the record's named fields. */
const PINO_KEYS = new Set(["level", "time", "msg", "pid", "hostname", "v"]);
/** Keys the shipped record sets itself; a logged field of that name cannot override them. */
const RECORD_KEYS = new Set(["time", "node", "service", "level", "msg"]);

/**
 * One log line as a collector receives it: a JSON object on one line with
 * time (ISO 8601), node (hostname), service, level and msg first, then the
 * structured fields the service logged (component, ids, ...). Logs are
 * redacted by pino before they reach the store, so no secret is added here.
 */
export function toJsonLine(line: LogLine, node: string): string {
  let msg = line.message;
  let fields: Record<string, unknown> = {};
  const rec = parseObject(line.message);
  if (rec) {
    msg = typeof rec["msg"] === "string" ? rec["msg"] : "";
    fields = Object.fromEntries(Object.entries(rec).filter(([k]) => !PINO_KEYS.has(k) && !RECORD_KEYS.has(k)));
  }
  if (msg.length > MAX_MESSAGE_CHARS) msg = `${msg.slice(0, MAX_MESSAGE_CHARS)}…[truncated]`;
  const out = { time: new Date(line.timeUnixMs).toISOString(), node, service: line.service, level: line.level || "info", msg, ...fields };
  let text = JSON.stringify(out);
  // A huge structured field would still break the datagram limit: keep the named keys only.
  if (text.length > 2 * MAX_MESSAGE_CHARS) text = JSON.stringify({ ...out, ...Object.fromEntries(Object.keys(fields).map((k) => [k, undefined])), truncated: true });
  return text;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
