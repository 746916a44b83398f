// The upgrade benchmark of issue 5: on ONE QEMU node (TCG, OVMF +
// systemd-boot), `nodectl upgrade --image B --reboot --wait` beside a plain
// `nodectl reboot --wait`, alternating, plus the node's own split of each
// install (receive, verify, write) from its `upgrade.written` event.
// Target: upgrade --wait at most reboot --wait + 5 s. Method and numbers: docs/upgrades.md.
import { execFile, execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { contextCredentials, currentContext, MachineClient, mtlsChannelCredentials, readNodectlConfig } from "../../src/machinery/client/index.js";
import { machineInfo, writeResults } from "../report.js";

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
/** The upgrade may take this much longer than a reboot. */
export const UPGRADE_TARGET_EXTRA_S = 5;

export interface UpgradeBenchOptions {
  readonly repoRoot: string;
  readonly log: (line: string) => void;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly out: string;
  readonly seconds: number;
}

/** One sample of each kind, in the order they ran. */
interface Sample {
  readonly kind: "reboot" | "upgrade";
  readonly seconds: number;
  readonly from: string;
  readonly to: string;
  /** The node's split of the install (upgrade only): ms from its `upgrade.written` event. */
  readonly install?: { receiveMs: number; verifyMs: number; writeMs: number };
  readonly bundleBytes?: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs the benchmark, prints a table, writes bench/results/upgrade-*.json; returns its path. */
export async function runUpgradeBench({ repoRoot, log }: UpgradeBenchOptions): Promise<string> {
  const rounds = env("BENCH_UPGRADE_ROUNDS", 3);
  const loadBefore = loadavg();
  const out = join(repoRoot, "dist", "bench-upgrade");
  const imager = join(repoRoot, "build", "cmd", "imager.js");
  const versions = ["0.1.0", "0.2.0", "0.3.0"];
  log(`upgrade: building ${versions.join(", ")} into dist/bench-upgrade (version-only rebuilds)...`);
  for (const v of versions) execFileSync(process.execPath, [imager, "--version", v, "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
  const bundle = (v: string) => join(out, `cairn-${v}-amd64.bundle`);
  const tmp = await mkdtemp(join(tmpdir(), "cairn-bench-upg-"));
  const config = join(tmp, "nodectlconfig");
  const stateRoot = join(tmp, "clusters");
  const nodectl = (args: string[], timeoutMs = 600_000): Promise<Run> =>
    new Promise((done) => {
      const t = performance.now();
      execFile(process.execPath, [join(repoRoot, "bin", "nodectl.js"), ...args], { env: { ...process.env, NODECTL_CONFIG: config }, timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
        done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, out: `${stdout}${stderr}`, seconds: (performance.now() - t) / 1000 });
      });
    });
  const samples: Sample[] = [];
  try {
    const created = await nodectl(["cluster", "create", "benchupg", "--image", join(out, "cairn-0.1.0-amd64.raw"), "--state-root", stateRoot, "--memory", "512"]);
    if (created.code !== 0) throw new Error(`cluster create failed: ${created.out}`);
    const version = async (): Promise<{ osVersion: string; bootedSlot: string; bootId: string; maintenance: boolean; slots: { name: string; state: string | number }[] } | undefined> => {
      const r = await nodectl(["version", "-o", "json"], 10_000);
      return r.code === 0 ? (JSON.parse(r.stdout) as never[])[0] : undefined;
    };
    /** Waits until the booted slot is blessed (a trial refuses the next install); not timed. */
    const settled = async (what: string) => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const v = await version().catch(() => undefined);
        const mine = v?.slots.find((s) => s.name === v.bootedSlot);
        if (v && !v.maintenance && (mine?.state === "SLOT_STATE_GOOD" || mine?.state === 1 || mine?.state === "GOOD")) return v;
        if (Date.now() > deadline) throw new Error(`${what}: node not configured and blessed within 300 s (last ${JSON.stringify(v)})`);
        await sleep(1000);
      }
    };
    let v = await settled("first boot");
    const endpoint = JSON.parse(await readFile(join(stateRoot, "benchupg", "cluster.json"), "utf8")).nodes[0].apiEndpoint as string;
    const creds = async () => mtlsChannelCredentials(contextCredentials(currentContext(await readNodectlConfig(config))));
    // 0.2.0, 0.3.0, then 0.2.0 again with --force, and so on: always the other slot, always a whole install.
    const plan = (i: number) => (i % 2 === 0 ? "0.2.0" : "0.3.0");
    for (let i = 0; i < rounds; i++) {
      const r = await nodectl(["reboot", "--wait", "--timeout", "600"]);
      if (r.code !== 0) throw new Error(`reboot --wait failed: ${r.out}`);
      const after = await settled("after reboot");
      samples.push({ kind: "reboot", seconds: r.seconds, from: `${v.osVersion}/${v.bootedSlot}`, to: `${after.osVersion}/${after.bootedSlot}` });
      log(`upgrade: round ${i + 1}: reboot --wait ${r.seconds.toFixed(1)} s`);
      v = after;

      const target = plan(i);
      // The node's split of the install is in its upgrade.written event, published just before it reboots.
      const client = new MachineClient(endpoint, await creds(), 900_000);
      const stop = new AbortController();
      let written: Record<string, string> | undefined;
      const watching = (async () => {
        for await (const e of client.events({ follow: true }, stop.signal)) {
          if (e.type === "upgrade.written") written = e.fields;
        }
      })().catch(() => undefined);
      await sleep(500);
      const u = await nodectl(["upgrade", "--image", bundle(target), "--reboot", "--wait", "--timeout", "600", ...(i >= 2 ? ["--force"] : [])]);
      stop.abort();
      await watching;
      client.close();
      if (u.code !== 0) throw new Error(`upgrade --wait failed: ${u.out}`);
      const up = await settled("after upgrade");
      const install = written ? { receiveMs: Number(written["receiveMs"]), verifyMs: Number(written["verifyMs"]), writeMs: Number(written["writeMs"]) } : undefined;
      const bundleBytes = statSync(bundle(target)).size;
      samples.push({ kind: "upgrade", seconds: u.seconds, from: `${v.osVersion}/${v.bootedSlot}`, to: `${up.osVersion}/${up.bootedSlot}`, ...(install && { install }), bundleBytes });
      log(`upgrade: round ${i + 1}: upgrade --wait ${u.seconds.toFixed(1)} s (${v.osVersion}/${v.bootedSlot} → ${up.osVersion}/${up.bootedSlot}); install ${JSON.stringify(install)}`);
      v = up;
    }
  } finally {
    await nodectl(["cluster", "destroy", "benchupg", "--state-root", stateRoot], 60_000);
    await rm(tmp, { recursive: true, force: true });
  }
  const reboot = median(samples.filter((s) => s.kind === "reboot").map((s) => s.seconds));
  const upgrade = median(samples.filter((s) => s.kind === "upgrade").map((s) => s.seconds));
  const installs = samples.flatMap((s) => (s.install ? [s.install] : []));
  const split = {
    receiveS: median(installs.map((x) => x.receiveMs)) / 1000,
    verifyS: median(installs.map((x) => x.verifyMs)) / 1000,
    writeS: median(installs.map((x) => x.writeMs)) / 1000,
  };
  const verdict = upgrade <= reboot + UPGRADE_TARGET_EXTRA_S ? "PASS" : "FAIL";
  const table = [
    `upgrade benchmark (${rounds} rounds, one VM, TCG):`,
    `  reboot --wait            median ${reboot.toFixed(1)} s   [${samples.filter((s) => s.kind === "reboot").map((s) => s.seconds.toFixed(1)).join(", ")}]`,
    `  upgrade --reboot --wait  median ${upgrade.toFixed(1)} s   [${samples.filter((s) => s.kind === "upgrade").map((s) => s.seconds.toFixed(1)).join(", ")}]`,
    `  install on the node      receive ${split.receiveS.toFixed(1)} s (verify ${split.verifyS.toFixed(1)} s of it, streamed) + write ${split.writeS.toFixed(1)} s`,
    `  target upgrade <= reboot + ${UPGRADE_TARGET_EXTRA_S} s: ${verdict} (difference ${(upgrade - reboot).toFixed(1)} s)`,
  ].join("\n");
  process.stdout.write(`${table}\n`);
  return writeResults(
    repoRoot,
    {
      benchmark: "upgrade",
      machine: machineInfo(loadBefore),
      method: {
        node: "nodectl cluster create (QEMU TCG, 512 MiB, 1 vCPU), images from build/cmd/imager.js into dist/bench-upgrade",
        reboot: "wall time of `nodectl reboot --wait` (returns when the new boot answers Version)",
        upgrade: "wall time of `nodectl upgrade --image <bundle> --reboot --wait` (sha256 of the bundle, upload, node-side verify and write, reboot, new boot answers on the new slot)",
        install: "receiveMs/verifyMs/writeMs from the node's upgrade.written event; verify runs inside receive (streamed, one pass)",
        order: "per round: reboot, then upgrade to the other slot; each waits for the boot to be blessed (untimed) before the next",
      },
      samples,
      medians: { rebootS: reboot, upgradeS: upgrade, ...split },
      target: { upgradeAtMostRebootPlusS: UPGRADE_TARGET_EXTRA_S, verdict },
    },
    "upgrade",
  );
}
