import type { VersionResponse } from "../api/index.js";
import type { MachineClient } from "../machinery/client/index.js";
import type { Dial } from "./context.js";
import { shortId, waitForBoot, type Goal } from "./wait-for-boot.js";

/** Which lifecycle call is being tracked; names the verb of the final line. */
export type Action = "reboot" | "shutdown" | "reset" | "upgrade" | "rollback";

/** The slot and version a node is meant to come back on (upgrade, rollback). */
export interface Expected {
  slot: string;
  version: string;
}

/** One node's tracked outcome: the final line, plus the facts for -o json/yaml. */
export interface TrackReport {
  summary: string;
  oldBootId: string;
  newBootId?: string;
  slot?: string;
  version?: string;
  maintenance?: boolean;
  elapsedSeconds: number;
}

export interface TrackOptions<R> {
  action: Action;
  goal: Goal;
  timeoutMs: number;
  /** The lifecycle call itself. */
  call: () => Promise<R>;
  /** For upgrade and rollback: where the call said the node will come back. */
  expected?: (r: R) => Expected;
  /** Called once the call returned and before waiting, e.g. to stop a progress bar. */
  onCalled?: (r: R) => void;
}

const at = (v: VersionResponse) => `${v.osVersion} (slot ${v.bootedSlot})`;

/**
 * Records the boot before, makes the call, waits for the node to reach the
 * goal and judges where it came back. An upgrade that comes back on another
 * version (automatic rollback) or a rollback that lands elsewhere throws one
 * line naming rolled_back_from_version and rollback_reason from Version.
 */
export async function track<R>(c: MachineClient, dial: Dial, opts: TrackOptions<R>): Promise<TrackReport> {
  const before = await c.version();
  const r = await opts.call();
  opts.onCalled?.(r);
  const back = await waitForBoot(dial, { goal: opts.goal, oldBootId: before.bootId, timeoutMs: opts.timeoutMs });
  const secs = Math.round(back.elapsedMs / 100) / 10;
  const took = `in ${secs.toFixed(1)}s`;
  const v = back.version;
  if (v === undefined) return { summary: `shut down: boot ${shortId(before.bootId)} stopped answering ${took}`, oldBootId: before.bootId, elapsedSeconds: secs };
  const boots = `boot ${shortId(before.bootId)} → ${shortId(v.bootId)}`;
  const facts = { oldBootId: before.bootId, newBootId: v.bootId, slot: v.bootedSlot, version: v.osVersion, maintenance: v.maintenance, elapsedSeconds: secs };
  const want = opts.expected?.(r);
  if (want && (v.osVersion !== want.version || v.bootedSlot !== want.slot)) {
    const why = v.rolledBackFromVersion
      ? `; rolled_back_from_version ${v.rolledBackFromVersion}, rollback_reason: ${v.rollbackReason || "(none given)"}`
      : "";
    const what = opts.action === "upgrade" && v.rolledBackFromVersion ? `upgrade to ${want.version} was rolled back` : `${opts.action} did not land`;
    throw new Error(`${what}: came back on ${at(v)}, expected ${want.version} (slot ${want.slot}); ${boots}${why}`);
  }
  const summary = {
    reboot: () => `rebooted: ${boots} (slot ${v.bootedSlot}, ${v.osVersion}) ${took}`,
    shutdown: () => `shut down and came back: ${boots} ${took}`,
    reset: () => `reset: ${boots}, ${v.maintenance ? "in maintenance mode" : "configured"} (slot ${v.bootedSlot}, ${v.osVersion}) ${took}`,
    upgrade: () => `upgraded: ${at(before)} → ${at(v)}, ${boots} ${took}`,
    rollback: () => `rolled back: ${at(before)} → ${at(v)}, ${boots} ${took}`,
  }[opts.action]();
  return { summary, ...facts };
}
