import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupOnExit } from "./cleanup.js";
import { QemuNode } from "./node-handle.js";
import { isAlive, waitForPidGone } from "./process-liveness.js";
import type { NodeState } from "./types.js";

// Stand-ins for QEMU: a sleeping node process whose argv carries the
// "QMP socket" marker, so the cmdline identity check matches it.
const dir = mkdtempSync(join(tmpdir(), "cairn-cleanup-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function fakeQemu(marker: string): { pid: number; state: NodeState } {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", marker], { detached: true, stdio: "ignore" });
  children.push(child);
  const pid = child.pid as number;
  const state: NodeState = {
    name: "fake", pid, apiEndpoint: "127.0.0.1:1", apiHostPort: 1, workDir: dir, consoleLog: join(dir, "c.log"),
    qmpSocket: marker, pidFile: join(dir, "p"), overlay: join(dir, "d"), accel: "tcg", memoryMiB: 1, cpus: 1,
  };
  return { pid, state };
}

describe("cleanupOnExit", () => {
  it("run() kills every tracked node", async () => {
    const { pid, state } = fakeQemu(join(dir, "a.sock"));
    const cleanup = cleanupOnExit();
    cleanup.track(new QemuNode(state));
    expect(isAlive(pid)).toBe(true);
    await cleanup.run();
    expect(await waitForPidGone(pid, 2000)).toBe(true);
  });

  it("kills tracked nodes when the process dies without calling run()", async () => {
    const { pid, state } = fakeQemu(join(dir, "b.sock"));
    const bundle = join(dir, "cleanup.mjs");
    await build({ entryPoints: [resolve(import.meta.dirname, "cleanup.ts")], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "silent" });
    const nh = join(dir, "nh.mjs");
    await build({ entryPoints: [resolve(import.meta.dirname, "node-handle.ts")], bundle: true, platform: "node", format: "esm", outfile: nh, logLevel: "silent" });
    const script = join(dir, "crash.mjs");
    writeFileSync(script, `
      import { cleanupOnExit } from ${JSON.stringify(bundle)};
      import { QemuNode } from ${JSON.stringify(nh)};
      cleanupOnExit().track(new QemuNode(${JSON.stringify(state)}));
      throw new Error("test crashed");
    `);
    const code = await new Promise<number | null>((r) => spawn(process.execPath, [script], { stdio: "ignore" }).once("exit", r));
    expect(code).not.toBe(0);
    expect(await waitForPidGone(pid, 2000)).toBe(true);
  });

  it("never signals a pid whose command line is not the tracked node's", async () => {
    const { pid, state } = fakeQemu(join(dir, "c.sock"));
    const cleanup = cleanupOnExit();
    cleanup.track(new QemuNode({ ...state, qmpSocket: join(dir, "other.sock") }));
    await cleanup.run();
    expect(isAlive(pid)).toBe(true);
  });
});
