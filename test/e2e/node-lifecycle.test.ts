import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { status } from "@grpc/grpc-js";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyMode, type FileInfo } from "../../src/api/index.js";
import { FORBIDDEN_NAMES } from "../../src/image/forbidden-files.js";
import {
  contextCredentials,
  currentContext,
  maintenanceChannelCredentials,
  mtlsChannelCredentials,
  readNodectlConfig,
  writeGeneratedConfig,
  type CallError,
  type MachineClient,
} from "../../src/machinery/client/index.js";
import { NodeFixture } from "./support/node-fixture.js";
import { E2E_VERSION, e2eImage } from "./support/node-image.js";
import { nodectl } from "./support/node-nodectl.js";

// The life of one node, told in order on ONE VM (a boot under TCG costs
// ~20 s, so each test continues where the previous one left the node):
// factory image → maintenance mode → configured over mTLS → reboot keeps the
// config → the root is read-only as the kernel sees it → no shell anywhere →
// shutdown powers the VM off. Identity is always proven by what the node
// itself reports: boot_id (which boot), booted_slot (which slot), os_version.

/** Basenames that must not exist on a node: the brief's list plus the builder's own. */
const NO_SHELL = [...new Set(["sh", "bash", "dash", "ash", "zsh", "busybox", "apt", "dpkg", ...FORBIDDEN_NAMES])];
const PROBE = "/etc/cairn-e2e-probe";

describe("node lifecycle (UEFI disk boot, TCG)", () => {
  const fileStarted = performance.now();
  /** Seconds per phase, printed in afterAll for the release notes. */
  const timings: Record<string, number> = {};
  /** What each step established; a later step states which earlier one it needs. */
  const story = { configured: false, rebooted: false, bootIds: [] as string[], config: "" };
  let fx: NodeFixture;
  let files: string[];
  let cfgDir: string;
  let nodectlConfig: string;
  let nodeYaml: string;
  let mtls: () => ReturnType<typeof mtlsChannelCredentials>;

  beforeAll(async () => {
    const { image, built, seconds } = e2eImage();
    timings[built ? "image build (dist/e2e)" : "image reuse check (dist/e2e)"] = seconds;
    files = readFileSync(image.filesList, "utf8").split("\n").filter(Boolean);
    fx = await NodeFixture.launch({ name: "lifecycle", baseImage: image.raw });
    // Generated while the VM boots: a cluster CA, node.yaml and a client context for this node.
    cfgDir = mkdtempSync(join(tmpdir(), "cairn-e2e-lifecycle-cfg-"));
    const paths = await writeGeneratedConfig(cfgDir, "e2e", { endpoints: [fx.endpoint] });
    nodectlConfig = paths.nodectlConfigPath;
    nodeYaml = paths.nodeConfigPath;
    const ctx = contextCredentials(currentContext(await readNodectlConfig(nodectlConfig)));
    mtls = () => mtlsChannelCredentials(ctx);
  });

  afterAll(async () => {
    await fx?.dispose(resolve("dist/e2e/node-lifecycle.console.log"));
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
    timings["whole file"] = (performance.now() - fileStarted) / 1000;
    const lines = Object.entries(timings).map(([phase, s]) => `  ${phase.padEnd(40)} ${s.toFixed(1).padStart(6)} s`);
    console.log(`node-lifecycle phase timings (TCG):\n${lines.join("\n")}`);
  });

  const mtlsVersion = (c: MachineClient) => c.version();

  it("boots a fresh image from disk under UEFI into maintenance mode and is configured over the pinned maintenance TLS", async () => {
    await fx.withConsole(async () => {
      // 1. The factory image answers Version over maintenance TLS (no client cert).
      const boot = await fx.pollVersion("maintenance API after first boot", () => maintenanceChannelCredentials(), () => true, { since: fx.launchedAt });
      timings["launch → maintenance API answers"] = boot.seconds;
      const v0 = boot.version;
      expect(v0).toMatchObject({ maintenance: true, osVersion: E2E_VERSION, bootedSlot: "A", runtimeMode: "metal" });
      expect(v0.bootId).toMatch(/^[0-9a-f-]{36}$/);
      expect(fx.node.consoleText()).toMatch(/BdsDxe: starting Boot\d+/); // OVMF started the disk's loader: not a direct kernel boot

      // 2. The console names the certificate; pinning it proves that it is the one the API serves.
      const fps = [...fx.node.consoleText().matchAll(/cairn: maintenance mode: .*certificate fingerprint ([0-9A-F]{2}(?::[0-9A-F]{2}){31})/g)];
      expect(fps.length, "maintenance fingerprint line on the console").toBeGreaterThan(0);
      const fp = fps[fps.length - 1]![1]!;
      expect(await fx.call(maintenanceChannelCredentials(fp), (c) => c.version())).toMatchObject({ bootId: v0.bootId, maintenance: true });

      // 3. apply-config, as an operator would type it: --insecure pinned to the console's fingerprint.
      const applyStart = performance.now();
      const apply = await nodectl(["apply-config", "--insecure", "--cert-fingerprint", fp, "-n", fx.endpoint, "-f", nodeYaml]);
      expect(apply.code, apply.transcript).toBe(0);
      expect(apply.stdout, apply.transcript).toMatch(/leaves maintenance mode/);

      // 4. The API switches to mTLS in the same boot (no reboot: same boot_id).
      const up = await fx.pollVersion("mTLS API after apply-config", mtls, (v) => !v.maintenance, { budgetMs: 30_000, since: applyStart });
      timings["apply-config → mTLS API answers"] = up.seconds;
      expect(up.version).toMatchObject({ bootId: v0.bootId, bootedSlot: "A", osVersion: E2E_VERSION, maintenance: false, cluster: "e2e" });

      // 5. The maintenance-TLS client is now refused, while mTLS answers: the node is up, it just wants a client cert.
      const refused = await fx.call(maintenanceChannelCredentials(), (c) => c.version()).then(
        (v) => new Error(`maintenance TLS still answered: ${JSON.stringify(v)}`),
        (e: CallError) => e,
      );
      expect([status.UNAVAILABLE, status.UNAUTHENTICATED], `maintenance client error: ${refused.message}`).toContain((refused as CallError).code);
      await expect(fx.call(mtls(), mtlsVersion)).resolves.toMatchObject({ bootId: v0.bootId });

      // 6. nodectl over mTLS (client config only, no --insecure) shows the same boot, slot and version.
      const ver = await nodectl(["-o", "json", "-n", fx.endpoint, "version"], { config: nodectlConfig });
      expect(ver.code, ver.transcript).toBe(0);
      const [row] = JSON.parse(ver.stdout) as Array<{ osVersion: string; bootId: string; bootedSlot: string; maintenance: boolean }>;
      expect(row).toMatchObject({ osVersion: E2E_VERSION, bootId: v0.bootId, bootedSlot: "A", maintenance: false });

      story.configured = true;
      story.bootIds.push(v0.bootId);
    });
  });

  it("keeps its config across `nodectl reboot`: a new boot_id, the same slot, the same config", async () => {
    expect(story.configured, "needs the configured node of the previous test").toBe(true);
    await fx.withConsole(async () => {
      const before = story.bootIds[story.bootIds.length - 1]!;
      story.config = Buffer.from((await fx.call(mtls(), (c) => c.getConfiguration(false))).data).toString("utf8");
      expect(story.config).toContain("[redacted]"); // the CA key never leaves the node

      const rebootStart = performance.now();
      const reboot = await nodectl(["-n", fx.endpoint, "reboot"], { config: nodectlConfig });
      expect(reboot.code, reboot.transcript).toBe(0);
      expect(reboot.stdout, reboot.transcript).toContain(before);

      // The old boot may answer for a moment: only a different boot_id proves the reboot happened.
      const back = await fx.pollVersion("mTLS API after reboot", mtls, (v) => v.bootId !== before, { since: rebootStart });
      timings["nodectl reboot → mTLS API answers (new boot)"] = back.seconds;
      expect(back.version).toMatchObject({ bootedSlot: "A", osVersion: E2E_VERSION, maintenance: false });
      expect(back.version.bootId).not.toBe(before);
      expect(back.version.uptimeSeconds).toBeLessThan((performance.now() - rebootStart) / 1000 + 1);

      const after = Buffer.from((await fx.call(mtls(), (c) => c.getConfiguration(false))).data).toString("utf8");
      expect(after).toBe(story.config);
      // It came up configured straight away: this boot announced mTLS, not maintenance.
      const lastAnnounce = [...fx.node.consoleText().matchAll(/cairn: machine API on port 50000 \((\w+)\)/g)].pop();
      expect(lastAnnounce?.[1]).toBe("mTLS");

      story.rebooted = true;
      story.bootIds.push(back.version.bootId);
    });
  });

  it("has a read-only root as the kernel reports it, and a live apply that writes to it is refused with EROFS and rolled back", async () => {
    expect(story.rebooted, "needs the rebooted node of the previous test").toBe(true);
    await fx.withConsole(async () => {
      const readText = (path: string) =>
        fx.call(mtls(), async (c) => {
          const parts: Buffer[] = [];
          for await (const chunk of c.read(path)) parts.push(Buffer.from(chunk.data));
          return Buffer.concat(parts).toString("utf8");
        });

      // The last "/" line is the mount that is visible (anything earlier is covered by it).
      const mounts = (await readText("/proc/mounts")).split("\n").map((l) => l.split(" "));
      const root = mounts.filter((f) => f[1] === "/").pop();
      expect(root, "a / line in /proc/mounts").toBeDefined();
      const [device, , fstype, options] = root!;
      expect({ device, fstype }).toEqual({ device: "/dev/vda2", fstype: "squashfs" }); // ROOT-A is partition 2
      expect(options!.split(",")).toContain("ro");

      // A live apply that needs a write on the squashfs (/etc is not an overlay).
      const current = parse(story.config) as { machine: { files?: unknown[] } };
      current.machine.files = [...(current.machine.files ?? []), { path: PROBE, content: "x", op: "create" }];
      const err = await fx
        .call(mtls(), (c) => c.applyConfiguration({ data: Buffer.from(stringify(current)), mode: ApplyMode.APPLY_MODE_NO_REBOOT }), 30_000)
        .then(
          (r) => new Error(`apply was accepted: ${JSON.stringify(r)}`),
          (e: CallError) => e,
        );
      const shown = `${err.message} ${JSON.stringify((err as CallError).fieldDetails ?? [])}`;
      expect((err as CallError).code, shown).toBe(status.FAILED_PRECONDITION);
      expect(err.message, shown).toMatch(/EROFS/);
      expect(err.message, shown).toMatch(/read-only file system/i);
      expect(err.message, shown).toContain(PROBE);

      // Nothing changed: same config, same boot, and no probe file.
      expect(Buffer.from((await fx.call(mtls(), (c) => c.getConfiguration(false))).data).toString("utf8")).toBe(story.config);
      expect(await fx.call(mtls(), mtlsVersion)).toMatchObject({ bootId: story.bootIds[story.bootIds.length - 1], maintenance: false });
      await expect(readText(PROBE)).rejects.toMatchObject({ code: status.NOT_FOUND });
    });
  });

  it("ships no shell, busybox or package manager: not in the image file list, not on the running node", async () => {
    const forbidden = (paths: string[]) => paths.filter((p) => NO_SHELL.includes(basename(p)));
    expect(files).toContain("/usr/bin/node"); // the list is the real root, not an empty file
    expect(forbidden(files)).toEqual([]);

    expect(story.rebooted, "needs the running configured node").toBe(true);
    await fx.withConsole(async () => {
      const list = (path: string, recursive: boolean) =>
        fx.call(mtls(), async (c) => {
          const out: FileInfo[] = [];
          for await (const f of c.list({ path, recursive })) out.push(f);
          return out;
        }, 60_000);
      const seen: string[] = [];
      const walked: string[] = [];
      for (const dir of ["/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin"]) {
        const entries = await list(dir, true).catch((e: CallError) => {
          if (e.code === status.NOT_FOUND) return undefined; // not every layout has /lib64, /bin, ...
          throw e;
        });
        if (entries === undefined) continue;
        walked.push(dir);
        seen.push(...entries.map((f) => f.path));
      }
      seen.push(...(await list("/", false)).map((f) => f.path));
      expect(walked).toContain("/usr");
      expect(seen).toContain("/usr/bin/node"); // the walk really reached the binaries
      expect(seen).toContain("/usr");
      expect(forbidden(seen), `walked ${walked.join(", ")} and / (${seen.length} entries)`).toEqual([]);
    });
  });

  it("powers the VM off on `nodectl shutdown`: QEMU exits by itself", async () => {
    expect(story.configured, "needs the configured node").toBe(true);
    await fx.withConsole(async () => {
      expect(fx.node.isRunning()).toBe(true);
      const start = performance.now();
      const down = await nodectl(["-n", fx.endpoint, "shutdown"], { config: nodectlConfig });
      expect(down.code, down.transcript).toBe(0);
      expect(down.stdout, down.transcript).toContain(story.bootIds[story.bootIds.length - 1]);
      // No powerOff()/kill() here: only the guest's own power-off can end QEMU within the bound.
      const exited = await fx.node.waitForExit(60_000);
      timings["nodectl shutdown → QEMU exited"] = (performance.now() - start) / 1000;
      expect(exited, "QEMU still running 60 s after nodectl shutdown").toBe(true);
      expect(fx.node.isRunning()).toBe(false);
    });
  });
});
