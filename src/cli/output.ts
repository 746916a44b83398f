import { stringify } from "yaml";
import { status } from "@grpc/grpc-js";
import { isCairnError } from "../errors/index.js";
import type { NodeResult } from "../machinery/client/index.js";

export type OutputFormat = "table" | "json" | "yaml";

/** Renders rows as an aligned table with upper-case headers. */
export function table(headers: string[], rows: (string | number | boolean)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("   ")).join("\n");
}

/** Structured output for scripts: the raw values, keyed by node. */
export function structured(format: "json" | "yaml", value: unknown): string {
  return format === "json" ? JSON.stringify(value, null, 2) : stringify(value).trimEnd();
}

const CODE_NAMES = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k])) as Record<number, string>;

/** One readable line for a failure: never a stack trace. */
export function describeError(e: unknown): string {
  if (isCairnError(e)) {
    const details = e.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    return [e.message, ...details.map((d) => `  ${d}`), ...(e.hint ? [`  hint: ${e.hint}`] : [])].join("\n");
  }
  const err = e as { code?: number; details?: string; message?: string };
  if (typeof err.code === "number" && typeof err.details === "string") {
    const name = CODE_NAMES[err.code] ?? String(err.code);
    const text = err.code === status.UNAVAILABLE ? `${err.details} (is the node up, and does it trust this client's certificate?)` : err.details;
    return `${name}: ${text}`;
  }
  return err.message ?? String(e);
}

/** Prints per-node failures to stderr and returns how many nodes failed. */
export function reportFailures<T>(results: NodeResult<T>[]): number {
  let failed = 0;
  for (const r of results) {
    if (r.ok) continue;
    failed += 1;
    process.stderr.write(`error: node ${r.node}: ${describeError(r.error)}\n`);
  }
  return failed;
}
