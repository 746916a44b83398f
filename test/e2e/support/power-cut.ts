import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readClusterState, writeClusterState } from "../../../src/provision/cluster-state.js";
import { attachNode, cleanupOnExit, launchNode, type Cleanup, type NodeHandle, type NodeState } from "../../../src/provision/index.js";

/**
 * Power for one node (the first by default) of a `nodectl cluster create` cluster.
 * `cut` SIGKILLs QEMU: the guest gets no shutdown and whatever it had not
 * flushed to its disk (page cache, QEMU's unflushed qcow2 metadata) is
 * lost, like a power cut. `on` launches QEMU again on the same qcow2
 * overlay, OVMF variables (systemd-boot's EFI variables live there), API
 * port and first-boot config, and records the new pid in cluster.json so
 * `nodectl cluster destroy` still stops it. Every cut keeps the console of
 * the boot it ended (launchNode would overwrite it), so `consoleText` is the
 * node's whole serial output since creation.
 */
export class NodePower {
  readonly #archived: string[] = [];
  readonly #cleanup: Cleanup = cleanupOnExit();
  #cuts = 0;

  constructor(
    private readonly clusterDir: string,
    /** The first-boot config the cluster was created with (fw_cfg), handed again as a real power-on would. */
    private readonly configFile: string,
    /** Which node of the cluster (cluster.json order). */
    private readonly index = 0,
  ) {}

  async node(): Promise<NodeState> {
    const n = (await readClusterState(this.clusterDir)).nodes[this.index];
    if (!n) throw new Error(`cluster ${this.clusterDir} has no node #${this.index}`);
    return n;
  }

  /** Registers the created node so a test process that dies still SIGKILLs it. */
  async track(): Promise<void> {
    this.#cleanup.track(attachNode(await this.node()));
  }

  /** Path of the running boot's serial console log. */
  async consolePath(): Promise<string> {
    return (await this.node()).consoleLog;
  }

  /** True while the node's QEMU runs. */
  async running(): Promise<boolean> {
    return attachNode(await this.node()).isRunning();
  }

  /** SIGKILLs QEMU and waits until it is gone; returns the ended boots' console text. */
  async cut(): Promise<string> {
    const n = await this.node();
    const handle: NodeHandle = attachNode(n);
    if (!handle.isRunning()) throw new Error(`power cut: QEMU of ${n.name} (pid ${n.pid}) is not running`);
    await handle.kill();
    this.#cuts++;
    const kept = join(n.workDir, `console.cut-${this.#cuts}.log`);
    if (existsSync(n.consoleLog)) copyFileSync(n.consoleLog, kept);
    this.#archived.push(kept);
    return existsSync(kept) ? readFileSync(kept, "latin1") : "";
  }

  /** Powers the node on again on the same disk; resolves once QEMU runs (not once it booted). */
  async on(): Promise<void> {
    const state = await readClusterState(this.clusterDir);
    const n = state.nodes[this.index]!;
    const handle = this.#cleanup.track(
      await launchNode({
        name: n.name, baseImage: state.image, workDir: n.workDir, apiHostPort: n.apiHostPort,
        memoryMiB: n.memoryMiB, cpus: n.cpus, accel: n.accel, configFile: this.configFile,
      }),
    );
    (await handle.qmp()).close(); // free the single QMP slot
    // Re-read: another node's power-on may have rewritten cluster.json meanwhile.
    const now = await readClusterState(this.clusterDir);
    await writeClusterState({ ...now, nodes: now.nodes.map((x, i) => (i === this.index ? handle.state : x)) });
  }

  /** Every console line the node wrote since it was created, across power cuts. */
  async consoleText(): Promise<string> {
    const read = (p: string) => (existsSync(p) ? readFileSync(p, "latin1") : "");
    return [...this.#archived.map(read), read(await this.consolePath())].join("");
  }

  /** SIGKILLs anything still running that this object launched (afterAll; cluster destroy does the rest). */
  async dispose(): Promise<void> {
    await this.#cleanup.run();
  }
}
