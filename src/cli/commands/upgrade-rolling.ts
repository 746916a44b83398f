import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { SlotState } from "../../api/index.js";
import { globals, nodeHandles, type Dial } from "../context.js";
import type { MachineClient } from "../../machinery/client/index.js";
import { describeError, structured } from "../output.js";
import { bundleVersion, healthGate, rollOut, rolloutReport, type NodeOutcome } from "../rolling-upgrade.js";
import { track } from "../track-lifecycle.js";

async function* chunksOf(path: string): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

/**
 * nodectl upgrade --rolling: nodes in the order given, at most
 * --max-unavailable at once; each is upgraded with a reboot, must come back
 * on the new version and slot, and must pass the health gate (blessed,
 * services healthy) within --timeout before the next starts. A node
 * already healthy on the bundle's version is skipped, so a stopped rollout
 * can be re-run once the cause is fixed.
 */
export async function rollingUpgradeCommand(flags: { image: string; force?: boolean; stage?: boolean; tries?: number; maxUnavailable: number; timeout: number }, cmd: Command): Promise<void> {
  if (flags.stage) throw new CairnError("INVALID_ARGUMENT", "--rolling reboots every node: it cannot be combined with --stage");
  const size = (await stat(flags.image).catch(() => undefined))?.size;
  if (size === undefined) throw new CairnError("INVALID_ARGUMENT", `--image ${flags.image}: no such file`);
  const version = await bundleVersion(flags.image);
  const h = createHash("sha256");
  for await (const c of createReadStream(flags.image)) h.update(c as Buffer);
  const header = { size, sha256: h.digest("hex"), reboot: true, stageOnly: false, force: flags.force ?? false, url: "", tries: flags.tries ?? 0 };
  const { nodes, open } = await nodeHandles(cmd);
  const format = globals(cmd).format;
  const say = (line: string) => {
    if (format === "table") process.stdout.write(`${line}\n`);
  };
  const timeoutMs = flags.timeout * 1000;

  const outcomes = await rollOut(nodes, flags.maxUnavailable, async (node, i): Promise<NodeOutcome> => {
    const { client, dial } = open(node);
    try {
      return await upgradeNode(node, i, client, dial);
    } catch (e) {
      return { node, result: "failed", error: describeError(e).replace(/\n\s*/g, "; ") };
    } finally {
      client.close();
    }
  });

  async function upgradeNode(node: string, i: number, client: MachineClient, dial: Dial): Promise<NodeOutcome> {
    {
      const before = await client.version();
      const booted = before.slots.find((s) => s.name === before.bootedSlot);
      if (before.osVersion === version && booted?.state === SlotState.SLOT_STATE_GOOD && !flags.force) {
        say(`[${i + 1}/${nodes.length}] ${node}: already on ${version} (slot ${before.bootedSlot}, blessed): skipped`);
        return { node, result: "skipped", summary: `already on ${version} (slot ${before.bootedSlot}): skipped` };
      }
      say(`[${i + 1}/${nodes.length}] ${node}: upgrading ${before.osVersion} → ${version}`);
      const r = await track(client, dial, { action: "upgrade", goal: "new-boot", timeoutMs, call: () => client.upgrade(header, chunksOf(flags.image)), expected: (u) => ({ slot: u.slot, version: u.version }) });
      say(`[${i + 1}/${nodes.length}] ${node}: ${r.summary}; waiting for the health gate`);
      const gate = await healthGate(dial, { version, slot: r.slot! }, timeoutMs);
      return { node, result: "upgraded", summary: r.summary, bootId: r.newBootId!, slot: r.slot!, version, healthySeconds: gate.elapsedMs / 1000 };
    }
  }

  const report = rolloutReport(version, outcomes);
  if (format === "table") process.stdout.write(`${report.text}\n`);
  else process.stdout.write(`${structured(format, { version, ok: report.ok, nodes: outcomes })}\n`);
  if (!report.ok) process.exitCode = 1;
}
