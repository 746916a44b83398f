import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextCredentials, currentContext, maintenanceChannelCredentials, mtlsChannelCredentials, readNodectlConfig, writeGeneratedConfig } from "../../src/machinery/client/index.js";
import { NodeFixture } from "./support/node-fixture.js";
import { e2eImage } from "./support/node-image.js";
import { nodectl, type NodectlRun } from "./support/node-nodectl.js";
import { HostSntpServer } from "./support/sntp-server.js";
import { pollFor } from "./support/poll.js";

// Config controllers on ONE VM, in order: every live change is read back
// from the kernel through the API with the boot_id unchanged; reboots are
// proven by a new boot_id. The VM has a second NIC on a host tap device so
// the host can reach an address the node adds live (user networking cannot
// route to a new guest address), and a guest clock started 90 s behind the
// host's so that only the SNTP client can bring it within 1 s.

const BOOT_MS = 240_000; // a loaded 2-core host: boots under TCG took up to ~2 min
const TAG = String(process.pid % 200 + 20);
const TAP = `cfgtap${process.pid % 100000}`;
const HOST_IP = `10.213.${TAG}.1`;
const NODE_IP = `10.213.${TAG}.2`;
const ROUTE_NET = `10.214.${TAG}.0/24`;
const ETH1_MAC = `52:54:00:c0:${Number(TAG).toString(16).padStart(2, "0")}:01`;
const CLOCK_BEHIND_S = 90;

type Json = Record<string, unknown>;

describe("config controllers on a QEMU node (TCG)", () => {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const story = { configured: false, bootId: "" };
  let fx: NodeFixture;
  let sntp: HostSntpServer;
  let dir: string;
  let nodectlConfig: string;
  let base: Json;
  let mtls: () => ReturnType<typeof mtlsChannelCredentials>;

  /** nodectl against this node with the client config. */
  const ctl = (args: string[], timeoutMs = 90_000): Promise<NodectlRun> => nodectl(["-n", fx.endpoint, ...args], { config: nodectlConfig, timeoutMs });
  /** `nodectl -o json get <kind>` → the one node's object. */
  const get = async (kind: string): Promise<Json> => {
    const r = await ctl(["-o", "json", "get", kind]);
    expect(r.code, r.transcript).toBe(0);
    return (JSON.parse(r.stdout) as Json[])[0] as Json;
  };
  const bootId = async (): Promise<string> => (await fx.call(mtls(), (c) => c.version())).bootId;
  /** Writes a variant of the base config and returns its path. */
  const variant = (name: string, edit: (cfg: Json & { machine: Json & Record<string, any> }) => void): string => {
    const cfg = structuredClone(base) as Json & { machine: Json & Record<string, any> };
    edit(cfg);
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, stringify(cfg));
    return path;
  };
  const apply = async (file: string, ...flags: string[]) => {
    const r = await ctl(["apply-config", "-f", file, ...flags]);
    expect(r.code, r.transcript).toBe(0);
    return r;
  };
  const readFile = async (path: string): Promise<string> => {
    const r = await ctl(["read", path]);
    expect(r.code, r.transcript).toBe(0);
    return r.stdout;
  };
  /** A TCP connect from the host to the node's API port at `ip`: true when it connects. */
  const reachable = (ip: string, timeoutMs = 3000): Promise<boolean> =>
    new Promise((done) => {
      const s = connect({ host: ip, port: 50000 });
      const t = setTimeout(() => (s.destroy(), done(false)), timeoutMs);
      s.once("connect", () => (clearTimeout(t), s.destroy(), done(true)));
      s.once("error", () => (clearTimeout(t), done(false)));
    });

  beforeAll(async () => {
    const { image } = e2eImage();
    execFileSync("ip", ["tuntap", "add", "dev", TAP, "mode", "tap"]);
    execFileSync("ip", ["addr", "add", `${HOST_IP}/24`, "dev", TAP]);
    execFileSync("ip", ["link", "set", TAP, "up"]);
    sntp = await HostSntpServer.start();
    const rtcBase = new Date(Date.now() - CLOCK_BEHIND_S * 1000).toISOString().slice(0, 19);
    fx = await NodeFixture.launch({ name: "controllers", baseImage: image.raw, extra: { tapNics: [{ tap: TAP, mac: ETH1_MAC }], rtcBase } });
    dir = mkdtempSync(join(tmpdir(), "cairn-e2e-ctl-"));
    const paths = await writeGeneratedConfig(dir, "e2e-ctl", { endpoints: [fx.endpoint] });
    nodectlConfig = paths.nodectlConfigPath;
    base = parse(readFileSync(paths.nodeConfigPath, "utf8")) as Json;
    const m = (base as { machine: Record<string, unknown> }).machine;
    m["hostname"] = "ctl-base";
    // eth1 (selected by MAC) is up with no address yet; time from the host through the user-network gateway.
    m["network"] = { interfaces: [{ name: "eth0", dhcp: true }, { mac: ETH1_MAC, addresses: [] }], nameservers: ["10.0.2.3"] };
    m["time"] = { servers: [`10.0.2.2:${sntp.port}`] };
    const ctx = contextCredentials(currentContext(await readNodectlConfig(nodectlConfig)));
    mtls = () => mtlsChannelCredentials(ctx);
  });

  afterAll(async () => {
    await fx?.dispose(resolve("dist/e2e/config-controllers.console.log"));
    sntp?.close();
    try {
      execFileSync("ip", ["link", "del", TAP]);
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    timings["whole file"] = (performance.now() - started) / 1000;
    console.log(`config-controllers timings (TCG):\n${Object.entries(timings).map(([k, s]) => `  ${k.padEnd(44)} ${s.toFixed(1).padStart(6)} s`).join("\n")}`);
  });

  it("boots into maintenance, takes its config, and SNTP from the host brings its clock (started 90 s behind) within 1 s", async () => {
    await fx.withConsole(async () => {
      const boot = await fx.pollVersion("maintenance API", () => maintenanceChannelCredentials(), (v) => v.maintenance, { budgetMs: BOOT_MS, since: fx.launchedAt });
      timings["launch → maintenance API"] = boot.seconds;
      const applied = await nodectl(["apply-config", "--insecure", "-n", fx.endpoint, "-f", variant("base", () => undefined)], { timeoutMs: 90_000 });
      expect(applied.code, applied.transcript).toBe(0);
      const up = await fx.pollVersion("mTLS after apply", mtls, (v) => !v.maintenance, { budgetMs: 60_000 });
      expect(up.version.bootId).toBe(boot.version.bootId);
      story.bootId = up.version.bootId;
      story.configured = true;

      const t0 = performance.now();
      const time = await pollFor("time synced", () => get("time"), (t) => (t["time"] as Json)["synced"] === true, 60_000);
      timings["config applied → time synced"] = (performance.now() - t0) / 1000;
      const st = time["time"] as { offsetSeconds: number; steps: number; server: string; stratum: number };
      expect(st).toMatchObject({ server: `10.0.2.2:${sntp.port}`, stratum: 1 });
      expect(st.steps).toBeGreaterThanOrEqual(1);
      expect(st.offsetSeconds, "the guest clock started 90 s behind: the first exchange measured that").toBeGreaterThan(CLOCK_BEHIND_S - 30);
      expect(sntp.requests.count).toBeGreaterThan(0);
      // The node's clock as it answers, against the host's around the call.
      const before = Date.now();
      const now = ((await get("time"))["time"] as { nowUnixMs: number }).nowUnixMs;
      const after = Date.now();
      expect(now).toBeGreaterThan(before - 1000);
      expect(now).toBeLessThan(after + 1000);
      const svc = await ctl(["services"]);
      expect(svc.stdout, svc.transcript).toMatch(/timed\s+Running\s+ok/);
    });
  });

  it("changes hostname, a sysctl and a file with --mode no-reboot: read back from the kernel and the file, same boot", async () => {
    expect(story.configured, "needs the configured node").toBe(true);
    await fx.withConsole(async () => {
      const content = `hello from ${process.pid}\n`;
      const file = variant("live", (c) => {
        c.machine.hostname = "ctl-live";
        c.machine.sysctls = { "net.ipv4.tcp_keepalive_time": "333" };
        c.machine.files = [{ path: "/var/lib/e2e/hello.txt", content, mode: 0o640 }];
      });
      const r = await apply(file, "--mode", "no-reboot");
      expect(r.stdout, r.transcript).toMatch(/applied live/);
      expect(await bootId()).toBe(story.bootId);

      expect(((await get("hostname"))["hostname"] as Json)["hostname"]).toBe("ctl-live");
      expect((await readFile("/proc/sys/kernel/hostname")).trim()).toBe("ctl-live");
      expect((await get("sysctls"))["sysctls"]).toEqual([{ name: "net.ipv4.tcp_keepalive_time", value: "333", configured: "333", present: true }]);
      expect((await readFile("/proc/sys/net/ipv4/tcp_keepalive_time")).trim()).toBe("333");
      expect(await readFile("/var/lib/e2e/hello.txt")).toBe(content);
      expect((await get("files"))["files"]).toEqual([
        { path: "/var/lib/e2e/hello.txt", exists: true, mode: 0o640, size: Buffer.byteLength(content), sha256: createHash("sha256").update(content).digest("hex"), op: "create" },
      ]);
      expect(await bootId()).toBe(story.bootId);
    });
  });

  it("an address added to eth1 live is reachable from the host, a route shows in the routes status, and both go away when dropped", async () => {
    await fx.withConsole(async () => {
      expect(await reachable(NODE_IP, 2000), `${NODE_IP} answered before it was configured`).toBe(false);
      const withAddr = variant("addr", (c) => {
        c.machine.hostname = "ctl-live";
        c.machine.sysctls = { "net.ipv4.tcp_keepalive_time": "333" };
        c.machine.network.interfaces[1].addresses = [`${NODE_IP}/24`];
        c.machine.network.interfaces[1].routes = [{ network: ROUTE_NET, gateway: HOST_IP, metric: 7 }];
        c.machine.network.interfaces[1].mtu = 1400;
      });
      await apply(withAddr, "--mode", "no-reboot");
      // Real reachability: a TCP connection from the host to the API port at the new address, over the tap.
      await pollFor(`TCP connect to ${NODE_IP}:50000`, () => reachable(NODE_IP), (ok) => ok, 30_000);
      const addrs = (await get("addresses"))["addresses"] as Json[];
      expect(addrs).toContainEqual(expect.objectContaining({ link: "eth1", address: `${NODE_IP}/24`, origin: "static" }));
      expect(addrs).toContainEqual(expect.objectContaining({ link: "eth0", origin: "dhcp", leaseServer: "10.0.2.2" }));
      const routes = (await get("routes"))["routes"] as Json[];
      expect(routes).toContainEqual({ destination: ROUTE_NET, gateway: HOST_IP, link: "eth1", metric: 7, family: 4, protocol: "static", scope: "universe" });
      const links = (await get("links"))["links"] as Json[];
      expect(links).toContainEqual(expect.objectContaining({ name: "eth1", mac: ETH1_MAC, up: true, mtu: 1400, configured: true }));
      expect((await get("resolvers"))["resolvers"]).toMatchObject({ nameservers: expect.arrayContaining(["10.0.2.3"]) });

      // Dropped from the config: removed live, not at the next boot.
      await apply(variant("noaddr", (c) => {
        c.machine.hostname = "ctl-live";
        c.machine.sysctls = { "net.ipv4.tcp_keepalive_time": "333" };
      }), "--mode", "no-reboot");
      expect(((await get("routes"))["routes"] as Json[]).filter((r) => r["destination"] === ROUTE_NET)).toEqual([]);
      expect(((await get("addresses"))["addresses"] as Json[]).filter((a) => a["address"] === `${NODE_IP}/24`)).toEqual([]);
      expect(await reachable(NODE_IP, 2000)).toBe(false);
      expect(await bootId()).toBe(story.bootId);
    });
  });

  it("TRY with a 20 s timeout is active, then reverted by itself; a confirmed TRY stays", async () => {
    await fx.withConsole(async () => {
      const keep = (c: Json & { machine: Record<string, any> }) => {
        c.machine.sysctls = { "net.ipv4.tcp_keepalive_time": "333" };
      };
      const hostname = async () => ((await get("hostname"))["hostname"] as Json)["hostname"];
      const t0 = performance.now();
      const r = await apply(variant("try1", (c) => (keep(c), (c.machine.hostname = "ctl-trial"))), "--mode", "try", "--timeout", "20s");
      expect(r.stdout, r.transcript).toMatch(/reverts in 20s/);
      expect(await hostname()).toBe("ctl-trial");
      expect((await fx.call(mtls(), (c) => c.getConfiguration(false))).tryPending).toBe(true);
      await pollFor("trial reverted", hostname, (h) => h === "ctl-live", 60_000);
      timings["TRY applied → reverted"] = (performance.now() - t0) / 1000;
      expect(timings["TRY applied → reverted"]).toBeGreaterThanOrEqual(19);
      expect((await fx.call(mtls(), (c) => c.getConfiguration(false))).tryPending).toBe(false);

      const trial2 = variant("try2", (c) => (keep(c), (c.machine.hostname = "ctl-kept")));
      const t1 = performance.now();
      await apply(trial2, "--mode", "try", "--timeout", "20s");
      await apply(trial2, "--mode", "no-reboot"); // confirms: persisted, the revert timer is cancelled
      while (performance.now() - t1 < 25_000) await new Promise((res) => setTimeout(res, 1000));
      expect(await hostname()).toBe("ctl-kept");
      expect(Buffer.from((await fx.call(mtls(), (c) => c.getConfiguration(false))).data).toString()).toContain("hostname: ctl-kept");
      expect(await bootId()).toBe(story.bootId);
    });
  });

  it("kernel args: refused with --mode no-reboot naming the field, staged ones are in /proc/cmdline after the reboot", async () => {
    await fx.withConsole(async () => {
      const withArgs = variant("kargs", (c) => {
        c.machine.hostname = "ctl-kept";
        c.machine.sysctls = { "net.ipv4.tcp_keepalive_time": "333" };
        c.machine.kernel = { args: ["cairn.e2e=kargs"] };
      });
      const refused = await ctl(["apply-config", "-f", withArgs, "--mode", "no-reboot"]);
      expect(refused.code, refused.transcript).not.toBe(0);
      expect(refused.stderr, refused.transcript).toMatch(/FAILED_PRECONDITION: mode no-reboot cannot apply changes that need a reboot/);
      expect(refused.stderr, refused.transcript).toMatch(/machine\.kernel\.args: needs a reboot/);

      // AUTO does not reboot either: it stages and says why.
      const auto = await apply(withArgs, "--dry-run");
      expect(auto.stdout, auto.transcript).toMatch(/\(mode staged\)/);
      expect(auto.stdout, auto.transcript).toMatch(/machine\.kernel\.args {2}\(needs reboot\)/);
      const staged = await apply(withArgs, "--mode", "staged");
      expect(staged.stdout, staged.transcript).toMatch(/staged/);
      const k0 = (await get("kernel"))["kernel"] as { cmdline: string; bootEntryOptions: string };
      expect(k0.cmdline).not.toContain("cairn.e2e=kargs");
      expect(k0.bootEntryOptions).toMatch(/cairn\.slot=A .*cairn\.e2e=kargs$/);
      expect(await bootId()).toBe(story.bootId);

      const t0 = performance.now();
      const rb = await ctl(["reboot", "--wait", "--timeout", "4m"], 300_000);
      expect(rb.code, rb.transcript).toBe(0);
      const back = await fx.pollVersion("mTLS after reboot", mtls, (v) => v.bootId !== story.bootId && !v.maintenance, { budgetMs: BOOT_MS });
      timings["reboot with staged kernel args"] = (performance.now() - t0) / 1000;
      expect(back.version.bootId).not.toBe(story.bootId);
      story.bootId = back.version.bootId;
      const k1 = (await get("kernel"))["kernel"] as { cmdline: string; configuredArgs: string[] };
      expect(k1.cmdline).toContain("cairn.e2e=kargs");
      expect((await readFile("/proc/cmdline")).trim()).toBe(k1.cmdline);
      expect(k1.configuredArgs).toEqual(["cairn.e2e=kargs"]);
      expect(((await get("hostname"))["hostname"] as Json)["hostname"]).toBe("ctl-kept");
    });
  });

  it("reset returns the node to maintenance with the old config gone; applying a config again works", async () => {
    await fx.withConsole(async () => {
      const t0 = performance.now();
      // Generous: a maintenance boot under TCG on a loaded host took ~150 s (idle: ~35 s).
      const r = await ctl(["reset", "--wait", "--timeout", "7m"], 450_000);
      expect(r.code, r.transcript).toBe(0);
      const m = await fx.pollVersion("maintenance after reset", () => maintenanceChannelCredentials(), (v) => v.maintenance && v.bootId !== story.bootId, { budgetMs: BOOT_MS });
      timings["reset → maintenance"] = (performance.now() - t0) / 1000;
      expect(m.version).toMatchObject({ maintenance: true, hostname: "", cluster: "" });

      const again = await nodectl(["apply-config", "--insecure", "-n", fx.endpoint, "-f", variant("again", (c) => (c.machine.hostname = "ctl-again"))], { timeoutMs: 90_000 });
      expect(again.code, again.transcript).toBe(0);
      const up = await fx.pollVersion("mTLS after re-apply", mtls, (v) => !v.maintenance, { budgetMs: 60_000 });
      expect(up.version.bootId).toBe(m.version.bootId);
      const cfg = Buffer.from((await fx.call(mtls(), (c) => c.getConfiguration(false))).data).toString();
      expect(cfg).toContain("hostname: ctl-again");
      expect(cfg).not.toContain("cairn.e2e=kargs");
      expect(cfg).not.toContain("tcp_keepalive_time");
      // EPHEMERAL was wiped with the old config's file; the boot entry lost the old kernel args.
      expect(((await get("files"))["files"] as Json[]).length).toBe(0);
      const ls = await ctl(["read", "/var/lib/e2e/hello.txt"]);
      expect(ls.code, ls.transcript).not.toBe(0);
      expect(((await get("kernel"))["kernel"] as { bootEntryOptions: string }).bootEntryOptions).not.toContain("cairn.e2e=kargs");
    });
  });
});
