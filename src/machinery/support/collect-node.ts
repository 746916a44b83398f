import { status } from "@grpc/grpc-js";
import { slotStateToJSON } from "../../api/index.js";
import { isCairnError } from "../../errors/index.js";
import type { MachineClient } from "../client/index.js";
import { scrubPrivateKeys } from "./scrub-keys.js";

/** One file of a node's folder in the bundle. */
export interface BundleFile {
  /** Path inside the node's folder, e.g. "logs/machined.log". */
  readonly name: string;
  readonly content: string;
}

/** What could not be collected from a node, and why. */
export interface CollectFailure {
  readonly item: string;
  readonly error: string;
}

/** Everything collected from one node. */
export interface NodeCollection {
  readonly node: string;
  /** False when the node did not answer Version: nothing else was tried. */
  readonly reachable: boolean;
  readonly files: BundleFile[];
  readonly failures: CollectFailure[];
  /** Things that are absent for a good reason (a service that keeps no log). */
  readonly notes: string[];
}

/** One thing to collect: the file it becomes and how to get its text. */
export interface CollectItem {
  readonly file: string;
  collect(c: MachineClient, signal: AbortSignal): Promise<string>;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

async function lines<T>(stream: AsyncIterable<T>, format: (v: T) => string): Promise<string> {
  const out: string[] = [];
  for await (const v of stream) out.push(format(v));
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/** The fixed items, in the order they are collected; per-service logs come after them. */
export const NODE_ITEMS: readonly CollectItem[] = [
  { file: "config.yaml", collect: async (c) => Buffer.from((await c.getConfiguration()).data).toString("utf8") },
  { file: "services.json", collect: async (c) => json((await c.serviceList()).services) },
  { file: "stats.json", collect: async (c) => json(await c.stats()) },
  { file: "ps.json", collect: async (c) => json((await c.processes()).processes) },
  { file: "memory.json", collect: async (c) => json(await c.memory()) },
  { file: "disks.json", collect: async (c) => json(await c.disks()) },
  { file: "mounts.json", collect: async (c) => json(await c.mounts()) },
  { file: "netstat.json", collect: async (c) => json(await c.netstat()) },
  {
    file: "dmesg.log",
    collect: (c, signal) => lines(c.dmesg({ follow: false, tailLines: 0 }, signal), (k) => `[${(k.monotonicUs / 1e6).toFixed(6).padStart(12)}] ${k.message}`),
  },
  {
    file: "events.log",
    collect: (c, signal) => lines(c.events({ tailEvents: 100_000, follow: false }, signal), (e) => `${e.id}  ${new Date(e.timeUnixMs).toISOString()}  ${e.type}  ${e.message}  ${JSON.stringify(e.fields)}`),
  },
];

/** Per item; a stream that hangs must not hold the whole bundle. */
const ITEM_TIMEOUT_MS = 30_000;

/**
 * Collects one node's diagnostics: Version first (a node that does not
 * answer it is recorded as unreachable and skipped), then every item and
 * each service's log. One failing item is recorded and the rest go on.
 * Every text passes through scrubPrivateKeys.
 */
export async function collectNode(client: MachineClient, node: string, items: readonly CollectItem[] = NODE_ITEMS): Promise<NodeCollection> {
  const result: NodeCollection = { node, reachable: false, files: [], failures: [], notes: [] };
  const add = (name: string, content: string) => result.files.push({ name, content: scrubPrivateKeys(content) });
  try {
    const v = await client.version();
    add("version.json", json({ ...v, slots: v.slots.map((s) => ({ ...s, state: slotStateToJSON(s.state) })) }));
  } catch (e) {
    result.failures.push({ item: "version.json", error: errorText(e) });
    return result;
  }
  (result as { reachable: boolean }).reachable = true;

  const attempt = async (file: string, fn: (signal: AbortSignal) => Promise<string>, absentIsNote = false) => {
    try {
      add(file, await fn(AbortSignal.timeout(ITEM_TIMEOUT_MS)));
    } catch (e) {
      if (absentIsNote && (e as { code?: number }).code === status.NOT_FOUND) result.notes.push(`${file}: ${errorText(e)}`);
      else result.failures.push({ item: file, error: errorText(e) });
    }
  };
  for (const item of items) await attempt(item.file, (signal) => item.collect(client, signal));

  let services: string[] = ["machined"];
  try {
    services = [...new Set(["machined", ...(await client.serviceList()).services.map((s) => s.id)])];
  } catch {
    // services.json already recorded why; machined's log is still worth trying.
  }
  for (const id of services) {
    await attempt(`logs/${safeName(id)}.log`, (signal) => lines(client.logs({ service: id, tailLines: 0, follow: false }, signal), (l) => l.message), true);
  }
  return result;
}

/** A node address or service id as a file name: "127.0.0.1:50000" → "127.0.0.1_50000". */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "_";
}

/** One line for the summary: the gRPC code name and the node's words, or the error's message. */
export function errorText(e: unknown): string {
  if (isCairnError(e)) return `${e.code}: ${e.message}`;
  const err = e as { code?: number; details?: string; message?: string; name?: string };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `DEADLINE_EXCEEDED: no answer within ${ITEM_TIMEOUT_MS / 1000} s`;
  if (typeof err.code === "number" && typeof err.details === "string") {
    const name = Object.entries(status).find(([, v]) => v === err.code)?.[0] ?? String(err.code);
    return `${name}: ${err.details}`;
  }
  return err.message ?? String(e);
}
