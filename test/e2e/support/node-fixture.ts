import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChannelCredentials } from "@grpc/grpc-js";
import type { VersionResponse } from "../../../src/api/index.js";
import { MachineClient } from "../../../src/machinery/client/index.js";
import { cleanupOnExit, launchNode, type Cleanup, type NodeHandle, type NodeLaunchSpec } from "../../../src/provision/index.js";

/**
 * Boot budget under TCG on a 2-core host that other engineers' VMs share.
 * Measured: first boot 37-54 s and reboot 54-59 s at load average 3-6
 * (~20 s on an idle host), so 90 s left too little margin; cluster-cli uses 120 s too.
 */
export const BOOT_BUDGET_MS = 120_000;
const POLL_EVERY_MS = 500;
/** Per-attempt deadline: long enough for a TLS handshake under TCG, short enough to poll. */
const CALL_TIMEOUT_MS = 5_000;

/**
 * One QEMU node booted from a disk image, shared by the tests of a file.
 * Readiness is always polled (Version answers), never slept for; every
 * failure inside `withConsole` carries the tail of the serial console, which
 * is the only view into a node that does not answer.
 */
export class NodeFixture {
  private constructor(
    private handle: NodeHandle,
    private readonly cleanup: Cleanup,
    private readonly tmp: string,
    private readonly spec: NodeLaunchSpec,
    /** performance.now() just before the latest launchNode. */
    public launchedAt: number,
  ) {}

  get node(): NodeHandle {
    return this.handle;
  }

  /** Launches the image with no config (maintenance mode) on a fresh qcow2 overlay. */
  static async launch(opts: { name: string; baseImage: string; memoryMiB?: number; extra?: Pick<NodeLaunchSpec, "tapNics" | "rtcBase"> }): Promise<NodeFixture> {
    const cleanup = cleanupOnExit(); // SIGKILLs our QEMU (and only ours) even if afterAll never runs
    // Short path: the QMP socket must fit in sun_path (108 bytes).
    const tmp = mkdtempSync("/tmp/cairn-e2e-node-");
    const spec: NodeLaunchSpec = { name: opts.name, baseImage: opts.baseImage, workDir: join(tmp, "node"), ...(opts.memoryMiB ? { memoryMiB: opts.memoryMiB } : {}), ...opts.extra };
    const launchedAt = performance.now();
    const node = cleanup.track(await launchNode(spec));
    return new NodeFixture(node, cleanup, tmp, spec, launchedAt);
  }

  /**
   * A power cut and power-on: SIGKILLs QEMU (no guest shutdown, no flush of
   * the guest's caches) and launches it again on the same qcow2 overlay and
   * OVMF variables. The API port may change; `endpoint` follows it.
   */
  async powerCycle(): Promise<void> {
    await this.handle.kill();
    this.launchedAt = performance.now();
    this.handle = this.cleanup.track(await launchNode(this.spec));
  }

  get endpoint(): string {
    return this.node.apiEndpoint;
  }

  consoleTail(chars = 4000): string {
    let text = "";
    try {
      text = this.node.consoleText();
    } catch {
      return "(console log unreadable)";
    }
    return text.length > chars ? `…${text.slice(-chars)}` : text;
  }

  /** Runs `fn`; if it throws, the error message gains the console tail (assertion diffs are kept). */
  async withConsole<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && !e.message.includes("--- node console tail ---")) {
        e.message += `\n--- node console tail (${this.node.name}, QEMU ${this.node.isRunning() ? "running" : "exited"}) ---\n${this.consoleTail()}`;
      }
      throw e;
    }
  }

  /**
   * One call on a fresh client. Fresh credentials per client give grpc-js a
   * fresh subchannel, so the reconnect backoff of earlier failed attempts
   * (which grows to tens of seconds) never delays the moment we notice the
   * node is up; that keeps the measured phase times honest.
   */
  async call<T>(creds: ChannelCredentials, fn: (c: MachineClient) => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    const client = new MachineClient(this.endpoint, creds, timeoutMs);
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  }

  /**
   * Polls Version with `creds()` until `until` accepts the answer. Fails
   * early when QEMU exits, and on timeout with the last error seen.
   * Returns the answer and the seconds from `since` (default: poll start).
   */
  async pollVersion(
    what: string,
    creds: () => ChannelCredentials,
    until: (v: VersionResponse) => boolean,
    opts: { budgetMs?: number; since?: number } = {},
  ): Promise<{ version: VersionResponse; seconds: number; attempts: number }> {
    const start = performance.now();
    const since = opts.since ?? start;
    const deadline = start + (opts.budgetMs ?? BOOT_BUDGET_MS);
    let last = "no attempt yet";
    let attempts = 0;
    while (performance.now() < deadline) {
      if (!this.node.isRunning()) throw new Error(`waiting for ${what}: QEMU exited; last answer: ${last}`);
      attempts++;
      try {
        const v = await this.call(creds(), (c) => c.version());
        if (until(v)) return { version: v, seconds: (performance.now() - since) / 1000, attempts };
        last = `answered ${JSON.stringify({ bootId: v.bootId, maintenance: v.maintenance, slot: v.bootedSlot, version: v.osVersion })}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(POLL_EVERY_MS);
    }
    throw new Error(`waiting for ${what}: no matching Version answer within ${((opts.budgetMs ?? BOOT_BUDGET_MS) / 1000).toFixed(0)} s (${attempts} attempts); last: ${last}`);
  }

  /** Kills QEMU (ours only, by pid and QMP socket), keeps the console log at `keepConsoleAs`, removes the workdir. */
  async dispose(keepConsoleAs?: string): Promise<void> {
    await this.cleanup.run();
    if (keepConsoleAs !== undefined) {
      try {
        mkdirSync(dirname(keepConsoleAs), { recursive: true });
        copyFileSync(this.node.consoleLog, keepConsoleAs);
      } catch {
        // Best effort: the log is for a human reading a failure afterwards.
      }
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
