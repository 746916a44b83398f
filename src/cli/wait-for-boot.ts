import { status } from "@grpc/grpc-js";
import type { VersionResponse } from "../api/index.js";
import type { Dial } from "./context.js";

/**
 * What "the node is back" means after a lifecycle call:
 * - `new-boot`: it answers Version (mTLS) with a boot_id other than the old one;
 * - `maintenance`: the same, over maintenance TLS and in maintenance mode (after a reset wiped state);
 * - `down`: it stops answering (shutdown).
 */
export type Goal = "new-boot" | "maintenance" | "down";

export interface WaitOptions {
  goal: Goal;
  /** The boot_id recorded before the call. */
  oldBootId: string;
  timeoutMs: number;
  /** Time between attempts (each attempt is one Version call). */
  intervalMs?: number;
  /** Deadline of one Version call, so a hung connection cannot eat the whole timeout. */
  callTimeoutMs?: number;
}

/** How the wait ended: the Version the node came back with (none for `down`), and how long it took. */
export interface Returned {
  version?: VersionResponse;
  elapsedMs: number;
}

/** Go-style durations, as users write them: 300 s → "5m0s", 90 s → "1m30s", 3 s → "3s". */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The first 8 characters of a boot id and an ellipsis: enough to tell two boots apart on one line. */
export function shortId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

const CODE_NAMES = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k])) as Record<number, string>;

/** A polling failure in a few words, on one line: "UNAVAILABLE: No connection established". */
function brief(e: unknown): string {
  const err = e as { code?: number; details?: string; message?: string };
  const text = typeof err.code === "number" && typeof err.details === "string" ? `${CODE_NAMES[err.code] ?? err.code}: ${err.details}` : (err.message ?? String(e));
  return text.split("\n")[0] ?? text;
}

const isGone = (e: unknown) => {
  const code = (e as { code?: number }).code;
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
};

/**
 * Polls Version until the node reaches `goal`, with a fresh client and a
 * short deadline per attempt and no sleep beyond the poll interval. Throws
 * one readable line when the timeout passes first, naming the last error.
 */
export async function waitForBoot(dial: Dial, opts: WaitOptions): Promise<Returned> {
  const interval = opts.intervalMs ?? 250;
  const callTimeout = opts.callTimeoutMs ?? 2_000;
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  let last = "no attempt finished";
  for (;;) {
    const attempt = Date.now();
    const c = dial({ maintenance: opts.goal === "maintenance", timeoutMs: Math.max(200, Math.min(callTimeout, deadline - attempt)) });
    try {
      const v = await c.version();
      if (v.bootId === opts.oldBootId || opts.goal === "down") last = `still answering on boot ${shortId(v.bootId)}`;
      else if (opts.goal === "maintenance" && !v.maintenance) last = `boot ${shortId(v.bootId)} is not in maintenance mode`;
      else return { version: v, elapsedMs: Date.now() - start };
    } catch (e) {
      if (opts.goal === "down" && isGone(e)) return { elapsedMs: Date.now() - start };
      last = brief(e);
    } finally {
      c.close();
    }
    const now = Date.now();
    if (now >= deadline) {
      const verb = opts.goal === "down" ? "did not stop answering" : "did not come back";
      throw new Error(`${verb} within ${formatDuration(opts.timeoutMs)} (last error: ${last})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(Math.max(0, interval - (now - attempt)), deadline - now)));
  }
}
