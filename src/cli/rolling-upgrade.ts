import { open } from "node:fs/promises";
import { SlotState, type VersionResponse } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import { parseManifest } from "../machinery/bundle/index.js";
import type { Dial } from "./context.js";

/** The version a bundle file claims (unverified: the node verifies the signature). */
export async function bundleVersion(path: string): Promise<string> {
  const fh = await open(path, "r").catch(() => {
    throw new CairnError("INVALID_ARGUMENT", `--image ${path}: no such file`);
  });
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    const m = head.readUInt32BE(8);
    if (head.subarray(0, 8).toString("ascii") !== "CAIRNBD1" || m === 0 || m > 64 * 1024) throw new CairnError("INVALID_ARGUMENT", `--image ${path}: not a Cairn bundle`);
    const manifest = Buffer.alloc(m);
    await fh.read(manifest, 0, m, 16);
    return parseManifest(manifest).version;
  } finally {
    await fh.close();
  }
}

const slotStateName = (s: SlotState) => ({ [SlotState.SLOT_STATE_GOOD]: "GOOD", [SlotState.SLOT_STATE_PENDING]: "PENDING", [SlotState.SLOT_STATE_BAD]: "BAD" })[s as number] ?? "UNKNOWN";

/**
 * Why a node is not (yet) healthy on `want`, or undefined when it is: it
 * answers Version on that version and slot, the booted slot is blessed
 * (GOOD), it is configured, and no service is failing.
 */
export function unhealthyReason(v: VersionResponse, services: readonly { id: string; state: string; health: string }[], want: { version: string; slot: string }): string | undefined {
  if (v.maintenance) return "in maintenance mode";
  if (v.osVersion !== want.version || v.bootedSlot !== want.slot) {
    const rb = v.rolledBackFromVersion ? ` (rolled back from ${v.rolledBackFromVersion}: ${v.rollbackReason || "no reason given"})` : "";
    return `runs ${v.osVersion} on slot ${v.bootedSlot}, expected ${want.version} on slot ${want.slot}${rb}`;
  }
  const slot = v.slots.find((s) => s.name === v.bootedSlot);
  if (!slot || slot.state !== SlotState.SLOT_STATE_GOOD) return `slot ${v.bootedSlot} is ${slot ? slotStateName(slot.state) : "missing"}${slot?.state === SlotState.SLOT_STATE_PENDING ? ` (tries left ${slot.triesLeft}): not blessed yet` : ""}`;
  const bad = services.filter((s) => s.health === "failing" || s.state === "Failed");
  if (bad.length > 0) return `services not healthy: ${bad.map((s) => `${s.id} (${s.state}, ${s.health})`).join(", ")}`;
  return undefined;
}

/**
 * The health gate between nodes: polls with a fresh client per attempt
 * until unhealthyReason says nothing, or throws after `timeoutMs` naming
 * the last reason. A node that came back on the other version is a
 * definitive failure at once (its rollback will not undo itself).
 */
export async function healthGate(dial: Dial, want: { version: string; slot: string }, timeoutMs: number): Promise<{ version: VersionResponse; services: number; elapsedMs: number }> {
  const start = Date.now();
  let last = "no answer yet";
  for (;;) {
    const c = dial({ timeoutMs: 3_000 });
    try {
      const v = await c.version();
      const services = (await c.serviceList()).services;
      const why = unhealthyReason(v, services, want);
      if (why === undefined) return { version: v, services: services.length, elapsedMs: Date.now() - start };
      if (v.osVersion !== want.version && v.rolledBackFromVersion) throw new CairnError("FAILED_PRECONDITION", `health gate: ${why}`);
      last = why;
    } catch (e) {
      if (e instanceof CairnError) throw e;
      last = (e as Error).message.split("\n")[0] ?? String(e);
    } finally {
      c.close();
    }
    if (Date.now() - start > timeoutMs) throw new CairnError("DEADLINE_EXCEEDED", `health gate: not healthy after ${Math.round(timeoutMs / 1000)}s: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One node's outcome in a rolling upgrade. */
export type NodeOutcome =
  | { node: string; result: "upgraded"; summary: string; bootId: string; slot: string; version: string; healthySeconds: number }
  | { node: string; result: "skipped"; summary: string }
  | { node: string; result: "failed"; error: string }
  | { node: string; result: "not-attempted" };

/**
 * Runs `upgradeOne` over `nodes` in order with at most `maxUnavailable` at
 * once. The first failure stops the rollout: no new node starts, the ones
 * in flight finish, the rest are reported as not attempted.
 */
export async function rollOut(nodes: readonly string[], maxUnavailable: number, upgradeOne: (node: string, index: number) => Promise<NodeOutcome>): Promise<NodeOutcome[]> {
  const outcomes: NodeOutcome[] = nodes.map((node) => ({ node, result: "not-attempted" }));
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < nodes.length) {
      const i = next++;
      const node = nodes[i]!;
      try {
        outcomes[i] = await upgradeOne(node, i);
      } catch (e) {
        outcomes[i] = { node, result: "failed", error: e instanceof Error ? e.message : String(e) };
      }
      if (outcomes[i]!.result === "failed") stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxUnavailable, nodes.length) }, worker));
  return outcomes;
}

/** The closing report: one line per node, then the verdict. */
export function rolloutReport(version: string, outcomes: readonly NodeOutcome[]): { text: string; ok: boolean } {
  const lines = outcomes.map((o) => {
    switch (o.result) {
      case "upgraded":
        return `${o.node}: ${o.summary}; healthy (blessed, services ok) after ${o.healthySeconds.toFixed(1)}s`;
      case "skipped":
        return `${o.node}: ${o.summary}`;
      case "failed":
        return `${o.node}: FAILED: ${o.error}`;
      case "not-attempted":
        return `${o.node}: not attempted (the rollout stopped)`;
    }
  });
  const failed = outcomes.filter((o) => o.result === "failed");
  const done = outcomes.filter((o) => o.result === "upgraded" || o.result === "skipped").length;
  const verdict = failed.length
    ? `rolling upgrade to ${version} stopped at ${failed.map((f) => f.node).join(", ")}: ${done}/${outcomes.length} nodes on ${version}, ${outcomes.filter((o) => o.result === "not-attempted").length} not attempted`
    : `rolling upgrade to ${version}: ${done}/${outcomes.length} nodes on ${version}`;
  return { text: [...lines, verdict].join("\n"), ok: failed.length === 0 };
}
