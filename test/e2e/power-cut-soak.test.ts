import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyMode, ResourceKind } from "../../src/api/index.js";
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
import { e2eImage } from "./support/node-image.js";

// Issue 9 on ONE VM: power cuts at random moments of apply-config, then a
// soak of 10,000 API calls and 10 reboot cycles. Every restart is proven by a
// new boot_id; every config is read back from the node and from the kernel.

const CUTS = 20;
const SOAK_CALLS = 10_000;
const SOAK_REBOOTS = 10;
/** Calls in flight during the soak: enough to keep the guest's one vCPU busy. */
const SOAK_CONCURRENCY = 8;
/** Seeded, so a failing kill point can be replayed. */
const SEED = Number(process.env["CAIRN_CUT_SEED"] ?? 20261204);
/** 20 boots at ~20 s on a quiet host, 30-35 s at load 8. */
const CUT_TEST_TIMEOUT_MS = 1_500_000;
/** 10 boots plus ~13,000 calls. */
const SOAK_TEST_TIMEOUT_MS = 1_500_000;
const MARKER = "/var/cairn-e2e-cut/marker";
const SYSCTL = "vm.swappiness";

/** mulberry32: a tiny seeded PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Config = { machine: { hostname?: string; files?: Array<{ path: string; content: string; op: string }>; sysctls?: Record<string, string> } } & Record<string, unknown>;

/** The config without the fields the trials change: what must stay exactly as stored. */
function rest(c: Config): string {
  const { hostname: _h, files: _f, sysctls, ...machine } = c.machine;
  const { [SYSCTL]: _s, ...otherSysctls } = sysctls ?? {};
  return JSON.stringify({ ...c, machine: { ...machine, sysctls: otherSysctls } });
}

describe("power cuts during apply-config and a soak (one VM, TCG)", () => {
  const timings: Record<string, number> = {};
  const report: string[] = [];
  let fx: NodeFixture;
  let cfgDir: string;
  let base: Config;
  let mtls: () => ReturnType<typeof mtlsChannelCredentials>;

  beforeAll(async () => {
    const { image } = e2eImage();
    fx = await NodeFixture.launch({ name: "cutsoak", baseImage: image.raw });
    cfgDir = mkdtempSync(join(tmpdir(), "cairn-e2e-cutsoak-cfg-"));
    const paths = await writeGeneratedConfig(cfgDir, "e2e", { endpoints: [fx.endpoint] });
    const ctx = contextCredentials(currentContext(await readNodectlConfig(paths.nodectlConfigPath)));
    mtls = () => mtlsChannelCredentials(ctx);
    base = parse(readFileSync(paths.nodeConfigPath, "utf8")) as Config;
    await fx.withConsole(async () => {
      await fx.pollVersion("maintenance API", () => maintenanceChannelCredentials(), (v) => v.maintenance, { since: fx.launchedAt });
      await fx.call(maintenanceChannelCredentials(), (c) => c.applyConfiguration({ data: Buffer.from(stringify(base)) }), 60_000);
      await fx.pollVersion("mTLS API after the first config", mtls, (v) => !v.maintenance, { budgetMs: 60_000 });
    });
  });

  afterAll(async () => {
    await fx?.dispose(resolve("dist/e2e/power-cut-soak.console.log"));
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
    console.log(`power-cut-soak (seed ${SEED}):\n${report.join("\n")}\ntimings (s): ${JSON.stringify(timings)}`);
  });

  const call = <T>(fn: (c: MachineClient) => Promise<T>, timeoutMs?: number) => fx.call(mtls(), fn, timeoutMs);
  const readText = (path: string) =>
    call(async (c) => {
      const parts: Buffer[] = [];
      for await (const chunk of c.read(path)) parts.push(Buffer.from(chunk.data));
      return Buffer.concat(parts).toString("utf8");
    }, 30_000);
  const activeConfig = async () => parse(Buffer.from((await call((c) => c.getConfiguration(false))).data).toString("utf8")) as Config;

  /** Config number `n`: a new hostname, a 64 KiB file in /var and a sysctl, all live-appliable. */
  function configFor(n: number): Config {
    const c = structuredClone(base);
    c.machine.hostname = `cut-${n}`;
    c.machine.files = [{ path: MARKER, content: `config ${n}\n${"x".repeat(64 * 1024)}\n`, op: "overwrite" }];
    c.machine.sysctls = { ...(c.machine.sysctls ?? {}), [SYSCTL]: String(10 + n) };
    return c;
  }

  /**
   * Which of `candidates` the node runs: its stored config must be exactly one
   * of them (the untouched fields equal to what config 0 stored), and the
   * kernel and /var must show that same one, applied again on this boot.
   */
  async function whichConfig(candidates: Array<{ n: number; config: Config }>, stored0: string): Promise<number> {
    const active = await activeConfig();
    const m = active.machine;
    const match = candidates.find(({ config: { machine: want } }) =>
      m.hostname === want.hostname && m.files?.length === 1 && m.files[0]?.content === want.files?.[0]?.content && m.sysctls?.[SYSCTL] === want.sysctls?.[SYSCTL],
    );
    if (match === undefined || rest(active) !== stored0) {
      throw new Error(`the stored config is neither config ${candidates.map((k) => k.n).join(" nor ")} (or changed elsewhere):\n${stringify(active)}`);
    }
    const want = match.config.machine;
    expect((await readText("/proc/sys/kernel/hostname")).trim()).toBe(want.hostname);
    expect(await readText(MARKER)).toBe(want.files?.[0]?.content);
    expect((await readText(`/proc/sys/${SYSCTL.replace(/\./g, "/")}`)).trim()).toBe(want.sysctls?.[SYSCTL]);
    return match.n;
  }

  it(`keeps the old or the new config through ${CUTS} power cuts at random points of apply-config`, async () => {
    const rnd = prng(SEED);
    await fx.withConsole(async () => {
      // Three uncut applies (fresh client each, as in a trial; config 0 last) set the window the
      // kill points are drawn from: 0-150 % of the slowest, so some land after the commit too.
      const applyMs: number[] = [];
      for (const n of [-2, -1, 0]) {
        const t0 = performance.now();
        await call((c) => c.applyConfiguration({ data: Buffer.from(stringify(configFor(n))), mode: ApplyMode.APPLY_MODE_AUTO }), 60_000);
        applyMs.push(performance.now() - t0);
      }
      let current = { n: 0, config: configFor(0) };
      timings["uncut applies (ms)"] = Math.round(Math.max(...applyMs));
      const stored0 = rest(await activeConfig());
      expect(await whichConfig([current], stored0)).toBe(0);
      const windowMs = Math.max(...applyMs) * 1.5;
      report.push(`uncut apply-config: ${applyMs.map((ms) => ms.toFixed(0)).join(", ")} ms; kill points drawn uniformly from 0-${windowMs.toFixed(0)} ms after the call starts`);

      const tally = { old: 0, new: 0, acknowledged: 0 };
      const started = performance.now();
      for (let n = 1; n <= CUTS; n++) {
        const next = { n, config: configFor(n) };
        const before = await call((c) => c.version());
        const delayMs = rnd() * windowMs;
        let answer = "pending";
        const applying = call((c) => c.applyConfiguration({ data: Buffer.from(stringify(next.config)), mode: ApplyMode.APPLY_MODE_AUTO }), 60_000).then(
          () => (answer = "OK"),
          (e: CallError) => (answer = `${status[e.code] ?? e.code}`),
        );
        await sleep(delayMs);
        await fx.powerCycle();
        await applying;
        const back = await fx.pollVersion(`the boot after power cut ${n}`, mtls, (v) => v.bootId !== before.bootId && !v.maintenance);
        const landed = await whichConfig([current, next], stored0);
        // An apply the node acknowledged must survive the cut.
        if (answer === "OK") expect(landed, `cut ${n}: apply answered OK before the cut, config ${current.n} came back`).toBe(n);
        tally[landed === n ? "new" : "old"]++;
        if (answer === "OK") tally.acknowledged++;
        report.push(`cut ${String(n).padStart(2)}: at ${delayMs.toFixed(0).padStart(5)} ms, apply answered ${answer.padEnd(11)} → config ${landed} (${landed === n ? "new" : "old"}), boot ${back.version.bootId.slice(0, 8)} up in ${back.seconds.toFixed(1)} s`);
        current = landed === n ? next : current;
      }
      timings[`${CUTS} power cuts`] = (performance.now() - started) / 1000;
      report.push(`power cuts: ${CUTS}; old config ${tally.old}, new config ${tally.new} (${tally.acknowledged} acknowledged before the cut); broken: 0`);
      expect(tally.old + tally.new).toBe(CUTS);
    });
  }, CUT_TEST_TIMEOUT_MS);

  /** PID 1's resident set (VmRSS of /proc/1/status) and open descriptors, as Stats reports them. */
  async function pid1(): Promise<{ rssKiB: number; fds: number }> {
    const memory = await call((c) => c.stats());
    expect(memory.memory?.initRss).toBeGreaterThan(0);
    expect(memory.initOpenFds).toBeGreaterThan(0);
    return { rssKiB: Math.round((memory.memory?.initRss ?? 0) / 1024), fds: memory.initOpenFds };
  }

  /**
   * PID 1 at rest: three samples 3 s apart, smallest RSS. Right after a burst
   * RSS still holds garbage V8 has not collected (±6 MiB in the first runs);
   * the low point of an idle node is what a leak would raise.
   */
  async function pid1AtRest(): Promise<{ rssKiB: number; fds: number }> {
    const samples: Array<{ rssKiB: number; fds: number }> = [];
    for (let i = 0; i < 3; i++) {
      await sleep(3000);
      samples.push(await pid1());
    }
    return samples.reduce((a, b) => (b.rssKiB < a.rssKiB ? b : a));
  }

  /**
   * `total` calls over one channel, `SOAK_CONCURRENCY` at a time: nine in ten
   * are Version (the cheapest round trip, so the count is reachable under
   * TCG), every tenth rotates through RPCs that read config, /proc and the
   * kernel, so their allocations are in the soak too.
   */
  async function hammer(total: number, label: string): Promise<{ perSecond: number; failures: string[] }> {
    const heavier: Array<(c: MachineClient) => Promise<unknown>> = [
      (c) => c.stats(),
      (c) => c.getConfiguration(false),
      (c) => c.serviceList(),
      (c) => c.getResources(ResourceKind.RESOURCE_KIND_HOSTNAME),
      (c) => c.memory(),
    ];
    const failures: string[] = [];
    let next = 0;
    const started = performance.now();
    await call(async (c) => {
      const worker = async () => {
        for (let i = next++; i < total; i = next++) {
          const rpc = i % 10 === 9 ? heavier[Math.floor(i / 10) % heavier.length]! : (cl: MachineClient) => cl.version();
          await rpc(c).catch((e: Error) => failures.push(`call ${i}: ${e.message}`));
          if ((i + 1) % 2000 === 0) console.log(`${label}: ${i + 1} calls, ${((i + 1) / ((performance.now() - started) / 1000)).toFixed(0)}/s`);
        }
      };
      await Promise.all(Array.from({ length: SOAK_CONCURRENCY }, worker));
    }, 60_000);
    return { perSecond: total / ((performance.now() - started) / 1000), failures };
  }

  it(`soaks ${SOAK_CALLS} API calls and ${SOAK_REBOOTS} reboots: PID 1 RSS grows under 10 %, open fds stay flat`, async () => {
    await fx.withConsole(async () => {
      await hammer(1000, "warm-up"); // lazy modules, TLS sessions, V8's heap grown to its working size
      const start = await pid1AtRest();
      const run = await hammer(SOAK_CALLS, "soak");
      timings[`${SOAK_CALLS} calls/s`] = Math.round(run.perSecond);
      expect(run.failures.slice(0, 5), `${run.failures.length} of ${SOAK_CALLS} calls failed`).toEqual([]);
      const afterCalls = await pid1AtRest();
      report.push(`soak calls: ${SOAK_CALLS} at ${run.perSecond.toFixed(0)}/s, 0 failed; PID 1 RSS ${start.rssKiB} → ${afterCalls.rssKiB} KiB, fds ${start.fds} → ${afterCalls.fds}`);
      expect(afterCalls.rssKiB, "PID 1 RSS after the calls (KiB)").toBeLessThan(start.rssKiB * 1.1);
      expect(afterCalls.fds, "PID 1 open fds after the calls").toBeLessThanOrEqual(start.fds + 2);

      // Reboot cycles: the same measurement at the same point of each boot.
      const perBoot: Array<{ bootId: string; rssKiB: number; fds: number }> = [];
      const started = performance.now();
      for (let i = 1; i <= SOAK_REBOOTS; i++) {
        const before = await call((c) => c.version());
        const { bootId: oldBoot } = await call((c) => c.reboot());
        expect(oldBoot).toBe(before.bootId);
        const back = await fx.pollVersion(`soak reboot ${i}`, mtls, (v) => v.bootId !== before.bootId && !v.maintenance);
        expect(back.version).toMatchObject({ bootedSlot: "A", osVersion: before.osVersion });
        await hammer(100, `boot ${i}`);
        perBoot.push({ bootId: back.version.bootId, ...(await pid1AtRest()) });
      }
      timings[`${SOAK_REBOOTS} reboot cycles`] = (performance.now() - started) / 1000;
      expect(new Set(perBoot.map((b) => b.bootId)).size).toBe(SOAK_REBOOTS);
      const first = perBoot[0]!;
      const last = perBoot[perBoot.length - 1]!;
      report.push(`reboot cycles: ${SOAK_REBOOTS}; PID 1 RSS after boot+100 calls (KiB): ${perBoot.map((b) => b.rssKiB).join(", ")}; fds: ${perBoot.map((b) => b.fds).join(", ")}`);
      expect(last.rssKiB, "PID 1 RSS, last boot vs first (KiB)").toBeLessThan(first.rssKiB * 1.1);
      // A fresh boot opens a few descriptors more or less (DHCP, SNTP, log sockets in flight): measured
      // 25-28 over ten boots. A leak that survives reboots would climb; a flat count stays in a band.
      const fds = perBoot.map((b) => b.fds);
      expect(Math.max(...fds) - Math.min(...fds), `fd counts over the boots: ${fds.join(", ")}`).toBeLessThanOrEqual(5);
      expect(last.fds, `fd counts over the boots: ${fds.join(", ")}`).toBeLessThanOrEqual(first.fds + 3);
    });
  }, SOAK_TEST_TIMEOUT_MS);
});
