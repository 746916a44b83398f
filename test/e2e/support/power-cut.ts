import { setTimeout as sleep } from "node:timers/promises";
import { readClusterState, writeClusterState } from "../../../src/provision/cluster-state.js";
import { isAlive, launchNode, QmpClient, type NodeState } from "../../../src/provision/index.js";

/**
 * Power for the single node of a `nodectl cluster create` cluster: `cut`
 * sends QMP `quit` (QEMU exits at once: whatever the guest had not flushed
 * to its disk is lost, like a power cut), `on` launches QEMU again on the
 * same overlay disk, OVMF variables and API port, and records the new pid
 * in cluster.json so `nodectl cluster destroy` still stops it.
 */
export class NodePower {
  constructor(
    private readonly clusterDir: string,
    /** The first-boot config the cluster was created with (fw_cfg), handed again as a real power-on would. */
    private readonly configFile: string,
  ) {}

  async node(): Promise<NodeState> {
    return (await readClusterState(this.clusterDir)).nodes[0]!;
  }

  async cut(): Promise<void> {
    const n = await this.node();
    const qmp = await QmpClient.connect(n.qmpSocket, { timeoutMs: 5_000 });
    try {
      await qmp.quit();
    } finally {
      qmp.close();
    }
    const deadline = Date.now() + 15_000;
    while (isAlive(n.pid)) {
      if (Date.now() > deadline) throw new Error(`QEMU pid ${n.pid} still alive 15 s after QMP quit`);
      await sleep(100);
    }
  }

  async on(): Promise<void> {
    const state = await readClusterState(this.clusterDir);
    const n = state.nodes[0]!;
    const handle = await launchNode({
      name: n.name, baseImage: state.image, workDir: n.workDir, apiHostPort: n.apiHostPort,
      memoryMiB: n.memoryMiB, cpus: n.cpus, accel: n.accel, configFile: this.configFile,
    });
    (await handle.qmp()).close(); // free the single QMP slot for the next cut
    await writeClusterState({ ...state, nodes: [handle.state, ...state.nodes.slice(1)] });
  }
}
