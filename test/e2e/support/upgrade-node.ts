import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SlotState, type SlotInfo, type VersionResponse } from "../../../src/api/index.js";
import { contextCredentials, currentContext, MachineClient, mtlsChannelCredentials, readNodectlConfig } from "../../../src/machinery/client/index.js";
import { isAlive, listClusters } from "../../../src/provision/index.js";
import { fileSize, waitForLine } from "./console-watch.js";
import { nodectl, type NodectlRun } from "./node-nodectl.js";
import { NodePower } from "./power-cut.js";

/** Where machined spools an upload (EPHEMERAL); emptied by a refusal, swept at boot. */
export const SPOOL_DIR = "/var/lib/cairn/upgrade";

export const slotOf = (v: VersionResponse, name: "A" | "B"): SlotInfo => {
  const s = v.slots.find((x) => x.name === name);
  if (!s) throw new Error(`Version has no slot ${name}: ${JSON.stringify(v.slots)}`);
  return s;
};
/** A slot as a short, comparable record: version, state name, tries, default. */
export const slotView = (s: SlotInfo) => ({ version: s.version, state: SlotState[s.state]?.replace("SLOT_STATE_", "") ?? String(s.state), triesLeft: s.triesLeft, isDefault: s.isDefault });
export const stateOf = (v: VersionResponse, name: "A" | "B") => slotView(slotOf(v, name)).state;
/** Slot `name` of a Version as a short record (see slotView). */
export const slot = (v: VersionResponse, name: "A" | "B") => slotView(slotOf(v, name));
/** One line proving where a boot is: version/slot, boot id, both slots. */
export const proof = (v: VersionResponse) =>
  `${v.osVersion}/${v.bootedSlot} boot ${v.bootId.slice(0, 8)} [A ${JSON.stringify(slotView(slotOf(v, "A")))} B ${JSON.stringify(slotView(slotOf(v, "B")))}]${v.rolledBackFromVersion ? ` rolled back from ${v.rolledBackFromVersion}` : ""}`;

/**
 * One QEMU node made by `nodectl cluster create` for the upgrade e2e files:
 * nodectl for what a user does, an in-process mTLS client (fresh channel per
 * call, so no reconnect backoff) for polling Version, power cuts, and the
 * node's serial console across them.
 */
export class UpgradeNode {
  readonly tmp = mkdtempSync("/tmp/cairn-e2e-upg-");
  readonly config = join(this.tmp, "nodectlconfig");
  readonly stateRoot = join(this.tmp, "clusters");
  readonly power: NodePower;
  /** Every Version a test step used as proof, in order (printed in afterAll). */
  readonly story: string[] = [];
  readonly timings: Record<string, number> = {};

  constructor(readonly cluster: string) {
    this.power = new NodePower(join(this.stateRoot, cluster), join(this.stateRoot, `${cluster}.node.yaml`));
  }

  ctl(args: string[], timeoutMs = 60_000): Promise<NodectlRun> {
    return nodectl(args, { config: this.config, timeoutMs });
  }

  async create(image: string): Promise<NodectlRun> {
    const r = await this.ctl(["cluster", "create", this.cluster, "--image", image, "--state-root", this.stateRoot, "--memory", "512"]);
    if (r.code === 0) await this.power.track();
    return r;
  }

  async client(timeoutMs = 8_000): Promise<MachineClient> {
    const ctx = contextCredentials(currentContext(await readNodectlConfig(this.config)));
    return new MachineClient((await this.power.node()).apiEndpoint, mtlsChannelCredentials(ctx), timeoutMs);
  }

  async version(timeoutMs = 8_000): Promise<VersionResponse> {
    const c = await this.client(timeoutMs);
    try {
      return await c.version();
    } finally {
      c.close();
    }
  }

  /** Polls Version until `until` holds; fails with the last answer and the console tail. */
  async pollVersion(what: string, until: (v: VersionResponse) => boolean | Promise<boolean>, budgetMs: number): Promise<VersionResponse> {
    const deadline = Date.now() + budgetMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      try {
        // A call made while the VM reboots hangs until its deadline: keep it short.
        const v = await this.version(5_000);
        if (await until(v)) return v;
        last = proof(v);
      } catch (e) {
        last = (e as Error).message.split("\n")[0] ?? String(e);
      }
      await sleep(250);
    }
    throw new Error(`waiting for ${what}: no matching Version within ${budgetMs / 1000} s; last: ${last}\n--- console tail ---\n${await this.consoleTail()}`);
  }

  /** Records a Version as proof of a step. */
  note(what: string, v: VersionResponse): VersionResponse {
    this.story.push(`${what}: ${proof(v)}`);
    return v;
  }

  async time<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.timings[what] = (Date.now() - t) / 1000;
    }
  }

  consoleText(): Promise<string> {
    return this.power.consoleText();
  }

  async consoleTail(lines = 40): Promise<string> {
    return (await this.consoleText()).split("\n").slice(-lines).join("\n");
  }

  async count(re: RegExp): Promise<number> {
    return ((await this.consoleText()).match(new RegExp(re.source, "g")) ?? []).length;
  }

  /** Byte offset of the end of the running boot's console: watch for lines after it. */
  async consoleMark(): Promise<{ path: string; from: number }> {
    const path = await this.power.consolePath();
    return { path, from: fileSize(path) };
  }

  /** The running QEMU's console from its first byte: the boots since the last power-on. */
  async runConsole(): Promise<{ path: string; from: number }> {
    return { path: await this.power.consolePath(), from: 0 };
  }

  /** What the running QEMU wrote to its console after `mark`. */
  consoleSince(mark: { path: string; from: number }): string {
    try {
      return readFileSync(mark.path, "latin1").slice(mark.from);
    } catch {
      return "";
    }
  }

  /** Waits for a console line after `mark` (see consoleMark); fails if QEMU stops. */
  async waitForLine(mark: { path: string; from: number }, re: RegExp, timeoutMs: number): Promise<string> {
    const pid = (await this.power.node()).pid;
    return (await waitForLine(mark.path, re, { from: mark.from, timeoutMs, alive: () => isAlive(pid) })).line;
  }

  /** The node's event log (nodectl events). */
  async events(): Promise<string> {
    const r = await this.ctl(["events", "--tail", "200"], 20_000);
    if (r.code !== 0) throw new Error(r.transcript);
    return r.stdout;
  }

  /** Files in the upload spool (none after a refusal or a boot). */
  async spoolFiles(): Promise<{ path: string; size: number }[]> {
    const c = await this.client();
    try {
      const out: { path: string; size: number }[] = [];
      for await (const f of c.list({ path: SPOOL_DIR })) if (f.path !== SPOOL_DIR) out.push({ path: f.path, size: f.size });
      return out;
    } catch (e) {
      if (/NOT_FOUND/.test((e as Error).message)) return [];
      throw e;
    } finally {
      c.close();
    }
  }

  /** Destroys the cluster and checks no QEMU of it is left; removes the temp dir. */
  async destroy(): Promise<{ pids: number[]; alive: number[] }> {
    const [listing] = (await listClusters(this.stateRoot)).filter((c) => c.state.name === this.cluster);
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    const r = await this.ctl(["cluster", "destroy", this.cluster, "--state-root", this.stateRoot]);
    await this.power.dispose();
    if (r.code !== 0 && listing) throw new Error(r.transcript);
    return { pids, alive: pids.filter((p) => isAlive(p)) };
  }

  /** Copies the node's whole console (all boots, across power cuts) to <tmp>/console.log, which destroy keeps. */
  async keepConsole(): Promise<void> {
    writeFileSync(join(this.tmp, "console.log"), await this.consoleText(), "latin1");
  }

  removeTemp(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
