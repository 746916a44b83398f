import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { VersionResponse } from "../../../src/api/index.js";
import { contextCredentials, currentContext, MachineClient, mtlsChannelCredentials, readNodectlConfig } from "../../../src/machinery/client/index.js";
import { isAlive, listClusters } from "../../../src/provision/index.js";
import { loggedEvents, type LoggedEvent } from "../../integration/support/release-repo.js";
import { nodectl, type NodectlRun } from "./node-nodectl.js";
import { NodePower } from "./power-cut.js";
import { proof } from "./upgrade-node.js";

/**
 * A cluster of several QEMU nodes made by `nodectl cluster create --count N`
 * (all configured from fw_cfg with one config), for fleet tests: nodectl as a
 * user runs it, an in-process mTLS client per call for polling Version,
 * power per node (NodePower), and each node's logged events across boots
 * read back from its /var/log/machined.log through the API.
 */
export class FleetCluster {
  readonly tmp = mkdtempSync("/tmp/cairn-e2e-fleet-");
  readonly config = join(this.tmp, "nodectlconfig");
  readonly stateRoot = join(this.tmp, "clusters");
  readonly power: NodePower[];
  /** Every Version a test step used as proof, in order (printed in afterAll). */
  readonly story: string[] = [];
  readonly timings: Record<string, number> = {};

  constructor(
    readonly cluster: string,
    readonly size: number,
  ) {
    this.power = Array.from({ length: size }, (_, i) => new NodePower(join(this.stateRoot, cluster), join(this.stateRoot, `${cluster}.node.yaml`), i));
  }

  ctl(args: string[], timeoutMs = 60_000): Promise<NodectlRun> {
    return nodectl(args, { config: this.config, timeoutMs });
  }

  async create(image: string): Promise<NodectlRun> {
    const r = await this.ctl(["cluster", "create", this.cluster, "--count", String(this.size), "--image", image, "--state-root", this.stateRoot, "--memory", "512"], 180_000);
    if (r.code === 0) for (const p of this.power) await p.track();
    return r;
  }

  /** The API endpoints (host:port) in node order; a power-on keeps a node's port. */
  async endpoints(): Promise<string[]> {
    return Promise.all(this.power.map(async (p) => (await p.node()).apiEndpoint));
  }

  async version(i: number, timeoutMs = 8_000): Promise<VersionResponse> {
    const ctx = contextCredentials(currentContext(await readNodectlConfig(this.config)));
    const c = new MachineClient((await this.power[i]!.node()).apiEndpoint, mtlsChannelCredentials(ctx), timeoutMs);
    try {
      return await c.version();
    } finally {
      c.close();
    }
  }

  /** Every node's Version, or the error text for a node that does not answer. */
  async versions(timeoutMs = 5_000): Promise<(VersionResponse | string)[]> {
    return Promise.all(this.power.map((_, i) => this.version(i, timeoutMs).catch((e: unknown) => (e as Error).message.split("\n")[0] ?? String(e))));
  }

  /**
   * Polls every node's Version until `until` accepts all of them at once
   * (a node that does not answer counts as not accepted); fails with the
   * last answers and each node's console tail.
   */
  async pollAll(what: string, until: (vs: VersionResponse[]) => boolean, budgetMs: number, intervalMs = 1_000): Promise<VersionResponse[]> {
    const deadline = Date.now() + budgetMs;
    let last: (VersionResponse | string)[] = [];
    while (Date.now() < deadline) {
      last = await this.versions();
      const answered = last.filter((v): v is VersionResponse => typeof v !== "string");
      if (answered.length === last.length && until(answered)) return answered;
      await sleep(intervalMs);
    }
    const shown = last.map((v, i) => `#${i}: ${typeof v === "string" ? v : `${proof(v)} updater ${JSON.stringify(v.updater)}`}`).join("\n");
    throw new Error(`waiting for ${what}: not within ${budgetMs / 1000} s; last answers:\n${shown}\n${await this.consoleTails()}`);
  }

  /** Records the Versions as proof of a step. */
  note(what: string, vs: VersionResponse[]): VersionResponse[] {
    vs.forEach((v, i) => this.story.push(`${what} #${i}: ${proof(v)}`));
    return vs;
  }

  async time<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.timings[what] = (Date.now() - t) / 1000;
    }
  }

  /**
   * Node i's events from every boot whose log reached its disk (machined
   * appends to /var/log/machined.log across boots), read with `nodectl read`.
   */
  async events(i: number): Promise<LoggedEvent[]> {
    const ep = (await this.endpoints())[i]!;
    const r = await this.ctl(["-n", ep, "read", "/var/log/machined.log"], 60_000);
    if (r.code !== 0) throw new Error(r.transcript);
    return loggedEvents(r.stdout);
  }

  async consoleTails(lines = 15): Promise<string> {
    const out: string[] = [];
    for (const [i, p] of this.power.entries()) {
      const text = await p.consoleText().catch(() => "(no console)");
      out.push(`--- node #${i} console tail ---\n${text.split("\n").slice(-lines).join("\n")}`);
    }
    return out.join("\n");
  }

  /** Destroys the cluster and returns any QEMU pid of it still alive (none expected). */
  async destroy(): Promise<number[]> {
    const [listing] = (await listClusters(this.stateRoot)).filter((c) => c.state.name === this.cluster);
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    const r = await this.ctl(["cluster", "destroy", this.cluster, "--state-root", this.stateRoot]);
    for (const p of this.power) await p.dispose();
    if (r.code !== 0 && listing) throw new Error(r.transcript);
    return pids.filter((p) => isAlive(p));
  }

  /** Keeps every node's whole console (all boots, across power cuts) in the temp dir. */
  async keepConsoles(): Promise<void> {
    for (const [i, p] of this.power.entries()) writeFileSync(join(this.tmp, `console-${i}.log`), await p.consoleText(), "latin1");
  }

  removeTemp(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
