import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { SlotState, type VersionResponse } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import { parseMachineConfig, type MachineConfig } from "../machinery/config/index.js";
import type { Platform, PowerAction } from "../platform/index.js";
import { maintenanceCredentials, maintenanceGate, mtlsCredentials, mtlsGate, startApiServer, type ApiServer, type NodeApi } from "../server/index.js";
import { maintenanceIdentity, servingIdentity } from "./api-identity.js";
import { ConfigControllers } from "./config-controllers.js";
import { ConfigService } from "./config-service.js";
import { ConfigStore } from "./config-store.js";
import { EventBus } from "./event-bus.js";
import type { LogStore } from "./log-store.js";
import { LogShipper, shipperServiceInfo } from "./log-shipping/index.js";
import { ServiceRegistry } from "./node-services.js";
import { readResources } from "./resources.js";
import { loadNodeId, Updater } from "./update/index.js";
import { NodeWorkloads } from "./workloads/node-workloads.js";
import { DEFAULT_BLESS_GRACE_MS, restoreSlotConfig, SlotConfigs, UpgradeService, waitFor, type HealthCheck } from "./upgrade/index.js";

export interface BootOptions {
  readonly platform: Platform;
  /** host:port for the machine API. */
  readonly listen: string;
  readonly log: Logger;
  readonly logs: LogStore;
  /** Console output for people at the node's screen (fingerprint, addresses). */
  readonly announce: (line: string) => void;
  /** How long a trial boot must stay healthy before it is blessed. Default 10 s. */
  readonly blessGraceMs?: number;
  /**
   * Required health checks beyond the built-in ones (API up, config
   * applied): every one must pass before a trial boot is blessed. Set by
   * the entry point the image was built with, never from the environment.
   */
  readonly healthChecks?: readonly HealthCheck[];
}

/** How one boot ended. */
export interface BootOutcome {
  readonly action: PowerAction;
  /** The port the API was bound to, reused by the next boot in process mode. */
  readonly port: number;
}

/**
 * One boot of the node, from platform bring-up to the power action that
 * ends it: load (or promote the staged) config, apply it, serve the API in
 * maintenance or mTLS mode, then wait until someone reboots, shuts down or
 * resets the node.
 */
export async function runBoot(opts: BootOptions): Promise<BootOutcome> {
  const { platform, log } = opts;
  const started = Date.now();
  const identity = await platform.boot(log.child({ component: "platform" }));
  const events = new EventBus(identity.bootId);
  // Node events also go to machined's log and to the kernel log: `logs machined`, dmesg and the
  // console show them among the other lines. Event texts and fields carry no secrets.
  const eventLog = log.child({ component: "events" });
  events.subscribe((e) => {
    eventLog.info({ event: e.type, id: e.id, fields: e.fields }, e.message);
    platform.writeKernelLog(`cairn: ${e.type}: ${e.message} (${e.id})`);
  });
  events.publish("boot.start", "boot started", { bootId: identity.bootId, slot: identity.slot, version: identity.osVersion, platformMs: String(Date.now() - started) });
  const logDir = join(platform.paths.ephemeral, "log");
  try {
    // EPHEMERAL is mounted now: the rings' early-boot lines and every later one go to /var/log.
    await opts.logs.persistTo(logDir);
    events.publish("boot.logs", `service logs persisted under ${logDir}`, { dir: logDir });
  } catch (e) {
    log.error({ err: e instanceof Error ? e.message : String(e), dir: logDir }, "log files unavailable; logs stay in memory");
  }

  // containerd and the workload controller, when the platform can run containers.
  const workloads = platform.containers ? new NodeWorkloads({ host: platform.containers, logs: opts.logs, events, log: log.child({ component: "workloads" }) }) : undefined;

  const store = new ConfigStore(platform.paths.state);
  await store.sweepTemps();
  // Back on an older slot (rollback or fallback): its last-known-good config first, so it never parses a newer one's.
  const slotConfigs = new SlotConfigs(platform.paths.state);
  const upgradeLog = log.child({ component: "upgrade" });
  const assessment = await UpgradeService.assessBoot({ store: platform.bootStore, identity, log: upgradeLog });
  await restoreSlotConfig({ slots: slotConfigs, config: store, booted: identity.slot, trial: assessment.trial, events, log: upgradeLog }).catch((err: unknown) =>
    log.error({ err }, "restoring the slot's config failed: keeping the active one"),
  );
  if (await store.promoteStaged()) events.publish("config.promoted", "staged config became active at boot", {});
  const initial = await loadActive(store, log, events);

  let end!: (action: PowerAction) => void;
  const ended = new Promise<PowerAction>((resolve) => (end = resolve));
  let pendingWipe: readonly string[] = [];
  const powerOnce = (action: PowerAction, why: string) => {
    events.publish(`power.${action}`, why, {});
    // Let the reply that asked for it leave the node first.
    setTimeout(() => end(action), 100).unref();
  };

  // Created once the upgrade service exists; config applies before that only reach it through this.
  let updater: Updater | undefined;
  const controllers = new ConfigControllers({ platform, identity, events, log: log.child({ component: "controllers" }) });
  // Log shipping is a live controller: started with the first config, re-aimed on every change.
  const shipper = new LogShipper(opts.logs, { log: log.child({ component: "log-shipper" }) });
  const config: ConfigService = new ConfigService(
    {
      store,
      events,
      log: log.child({ component: "config" }),
      applyLive: async (next, prev) => {
        // Shipping first, so the apply's own log lines already reach the new destinations.
        shipper.configure(next.machine.logging.destinations, next.machine.hostname ?? "");
        await controllers.apply(next, prev);
        // machine.workloads and machine.registries: recorded here, reconciled in the background.
        if (!prev || JSON.stringify([prev.machine.workloads, prev.machine.registries]) !== JSON.stringify([next.machine.workloads, next.machine.registries])) {
          workloads?.configure(next);
        }
        // machine.update applies live: the updater starts, re-aims or stops.
        updater?.configure(next.machine.update);
      },
      persisting: (cfg) => controllers.persisting(cfg),
      // At first boot (fw_cfg config) the server is not up yet and starts in mTLS directly.
      activated: () => server && setTimeout(() => void switchServer().catch((e) => log.error({ err: e }, "switching to mTLS failed")), 100).unref(),
      reboot: (why) => powerOnce("reboot", why),
    },
    initial,
  );
  if (initial) {
    shipper.configure(initial.machine.logging.destinations, initial.machine.hostname ?? "");
    // A failing controller at boot is reported (status, event) but must not stop the node from serving its API.
    await controllers.apply(initial, undefined).catch((e: unknown) => log.error({ err: e instanceof Error ? e.message : String(e) }, "applying the config at boot failed"));
    workloads?.configure(initial);
  }
  // containerd comes up in the background; the workloads follow once it answers.
  void workloads?.start();
  // The running slot's boot entry carries the persisted config's kernel args (none in maintenance mode).
  await controllers.persisting(initial).catch((e: unknown) => log.error({ err: e instanceof Error ? e.message : String(e) }, "syncing kernel args to the boot entry failed"));
  events.publish("boot.config", initial ? "machine config applied" : "no machine config: maintenance mode", { maintenance: String(!initial) });

  const upgrades = await UpgradeService.open({
    store: platform.bootStore,
    identity,
    events,
    log: upgradeLog,
    spoolDir: join(platform.paths.ephemeral, "lib", "cairn", "upgrade"),
    configKeys: () => config.active?.machine.update.publicKeys ?? [],
    reboot: (why) => powerOnce("reboot", why),
    slotConfigs,
    activeConfig: () => (config.maintenance ? Promise.resolve(undefined) : store.readActive()),
  });

  // Unattended updates (machine.update.repository set): checks, stages and reboots as reboot.strategy allows.
  const nodeId = await loadNodeId(platform.paths.state);
  const up = new Updater({
    identity,
    events,
    log: log.child({ component: "updater" }),
    stateDir: platform.paths.state,
    nodeId,
    imageKeys: () => platform.bootStore.releaseKeys(),
    upgrades,
    reboot: (why) => powerOnce("reboot", why),
  });
  updater = up;

  let server: ApiServer | undefined;
  let apiSince = Date.now();
  const [host] = splitListen(opts.listen);
  let port = splitListen(opts.listen)[1];

  const startServer = async (): Promise<ApiServer> => {
    const links = await platform.links();
    const cfg = config.active;
    let creds;
    if (cfg) {
      const id = await servingIdentity(platform.paths.state, cfg, links);
      creds = mtlsCredentials(cfg.machine.ca.cert, id.certPem, id.keyPem);
    } else {
      const id = await maintenanceIdentity(platform.paths.state);
      opts.announce(`cairn: maintenance mode: apply a config with nodectl apply-config --insecure; certificate fingerprint ${id.fingerprint}`);
      log.info({ fingerprint: id.fingerprint }, "maintenance mode");
      creds = maintenanceCredentials(id.certPem, id.keyPem);
    }
    const s = await startApiServer({ listen: `${host}:${port}`, credentials: creds, gate: cfg ? mtlsGate : maintenanceGate, node, log: log.child({ component: "api" }) });
    port = s.port;
    apiSince = Date.now();
    events.publish("service.state", `apid running (${cfg ? "mTLS" : "maintenance"})`, { service: "apid", state: "Running", port: String(s.port) });
    const addrs = links.flatMap((l) => l.addresses).filter((a) => !a.startsWith("127.") && !a.startsWith("::1"));
    opts.announce(`cairn: machine API on port ${s.port} (${cfg ? "mTLS" : "maintenance"}); addresses: ${addrs.join(", ") || "none"}`);
    return s;
  };
  const switchServer = async () => {
    if (server) events.publish("service.state", "apid stopping for a restart", { service: "apid", state: "Stopping" });
    await server?.close();
    server = await startServer();
  };

  const services = new ServiceRegistry([
    {
      id: "machined",
      info: () => ({ id: "machined", state: "Running", health: "ok", message: `boot ${identity.bootId}`, pid: process.pid, restarts: 0, sinceUnixMs: started }),
    },
    {
      id: "timed",
      info: () => {
        const t = controllers.time.status;
        const state = t.servers.length === 0 ? "Stopped" : t.synced ? "Running" : "Waiting";
        const message = t.servers.length === 0 ? "no time servers configured" : t.synced ? `synced with ${t.server}, offset ${t.offsetSeconds.toFixed(3)} s` : t.lastError || "syncing";
        return { id: "timed", state, health: t.synced ? "ok" : t.servers.length === 0 ? "unknown" : "unhealthy", message, pid: process.pid, restarts: 0, sinceUnixMs: t.lastSyncUnixMs || started };
      },
    },
    {
      id: "apid",
      info: () => ({ id: "apid", state: server ? "Running" : "Waiting", health: server ? "ok" : "unknown", message: server ? `serving on port ${server.port}` : "starting", pid: process.pid, restarts: 0, sinceUnixMs: apiSince }),
      restart: async () => {
        setTimeout(() => void switchServer().catch((e) => log.error({ err: e }, "restarting the API failed")), 100).unref();
      },
    },
    { id: "log-shipper", info: () => shipperServiceInfo(shipper, started) },
    ...(workloads ? [workloads.containerd] : []),
  ]);

  const node: NodeApi = {
    version: (): VersionResponse => ({
      osVersion: identity.osVersion,
      buildId: identity.buildId,
      bootId: identity.bootId,
      bootedSlot: identity.slot,
      slots: upgrades.assessment.slots.map((s) => ({ name: s.name, version: s.version, state: SLOT_STATES[s.health], triesLeft: s.triesLeft, isDefault: s.isDefault })),
      uptimeSeconds: (Date.now() - started) / 1000,
      hostname: config.active?.machine.hostname ?? "",
      maintenance: config.maintenance,
      arch: identity.arch,
      runtimeMode: platform.mode,
      nodeVersion: process.version,
      cluster: config.active?.cluster.name ?? "",
      rolledBackFromVersion: upgrades.assessment.rolledBackFrom?.version ?? "",
      rollbackReason: upgrades.assessment.rolledBackFrom?.reason ?? "",
      updater: up.status(),
    }),
    config: { apply: (req) => config.apply(req), get: (staged) => config.get(staged) },
    power: {
      reboot: () => powerOnce("reboot", "reboot requested over the API"),
      shutdown: () => powerOnce("poweroff", "shutdown requested over the API"),
      reset: async (wipe, reboot) => {
        pendingWipe = wipe;
        powerOnce(reboot ? "reboot" : "poweroff", `reset requested: wiping ${wipe.join(", ")}`);
        return wipe;
      },
    },
    services,
    logs: opts.logs,
    events,
    upgrade: {
      install: (header, chunks) => upgrades.install(header, chunks),
      rollback: (reboot) => upgrades.rollback(reboot),
    },
    platform,
    workloads,
    resources: (kind) => readResources(kind, { platform, identity, controllers, config: () => config.active }),
  };

  if (config.maintenance) await applyFirstBootConfig(platform, config, log, events);
  // A node without config still needs an address to be reached for its first apply.
  if (config.maintenance) await dhcpEverywhere(platform, log);
  server = await startServer();
  events.publish("boot.api", `machine API serving on port ${server.port}`, { port: String(server.port), mode: config.maintenance ? "maintenance" : "mtls" });
  events.publish("boot.done", "node ready", { maintenance: String(config.maintenance), ms: String(Date.now() - started) });
  log.info({ bootId: identity.bootId, slot: identity.slot, maintenance: config.maintenance, ms: Date.now() - started }, "node ready");
  // A trial boot is blessed once a grace period passed and every health check is ok; a failed one reboots it.
  const checks: HealthCheck[] = [
    waitFor("api", () => server !== undefined, "the machine API is not serving"),
    waitFor("config", () => !config.maintenance, "no machine config applied (maintenance mode)"),
    ...(opts.healthChecks ?? []),
  ];
  upgrades.scheduleBlessing(checks, opts.blessGraceMs ?? DEFAULT_BLESS_GRACE_MS);
  up.configure(config.active?.machine.update);

  const action = await ended;
  log.info({ action }, "ending boot");
  config.close();
  controllers.close();
  upgrades.close();
  up.close();
  await server.close(1000);
  // containerd (when the node runs it) stops before /var is unmounted; workloads stay with their shims until power-off.
  await workloads?.close();
  // The last lines (why the boot ends) still reach the collector, within a bounded wait.
  await shipper.close(1000);
  // Flush and close /var/log's files: a wipe or the unmount must not find them open.
  await opts.logs.closeFiles();
  await wipe(platform, pendingWipe, log);
  // A wiped STATE boots into maintenance mode: the entry loses the old config's kernel args too.
  if (pendingWipe.includes("state")) await controllers.persisting(undefined).catch((e: unknown) => log.error({ err: e instanceof Error ? e.message : String(e) }, "resetting kernel args failed"));
  await platform.powerAction(action, log);
  return { action, port };
}

/** Version's slot states for the boot assessment's. */
const SLOT_STATES = {
  empty: SlotState.SLOT_STATE_EMPTY,
  good: SlotState.SLOT_STATE_GOOD,
  pending: SlotState.SLOT_STATE_PENDING,
  bad: SlotState.SLOT_STATE_BAD,
} as const;

/** A config from fw_cfg or a URL is applied like the first apply-config; a bad one leaves the node in maintenance mode. */
async function applyFirstBootConfig(platform: Platform, config: ConfigService, log: Logger, events: EventBus): Promise<void> {
  try {
    const found = await platform.firstBootConfig?.(log);
    if (!found) return;
    await config.apply({ data: Buffer.from(found.text), mode: 0, dryRun: false, tryTimeoutSeconds: 0 });
    events.publish("config.firstboot", `config taken from ${found.source}`, { source: found.source });
    log.info({ source: found.source }, "first-boot config applied");
  } catch (e) {
    log.error({ err: e instanceof Error ? e.message : String(e), details: (e as { details?: unknown }).details }, "first-boot config rejected: maintenance mode");
    events.publish("config.firstboot.rejected", "first-boot config rejected; maintenance mode", {});
  }
}

async function dhcpEverywhere(platform: Platform, log: Logger): Promise<void> {
  try {
    const links = (await platform.links()).filter((l) => l.name !== "lo");
    await platform.configureNetwork({ interfaces: links.map((l) => ({ name: l.name, dhcp: true, addresses: [], routes: [] })), nameservers: [] }, log);
  } catch (e) {
    log.error({ err: e instanceof Error ? e.message : String(e) }, "maintenance network setup failed");
  }
}

async function loadActive(store: ConfigStore, log: Logger, events: EventBus): Promise<MachineConfig | undefined> {
  const text = await store.readActive();
  if (text === undefined) return undefined;
  try {
    return parseMachineConfig(text, store.activePath);
  } catch (e) {
    // A config this build cannot read must not brick the node: serve
    // maintenance mode so an operator can apply one it can.
    log.error({ err: e instanceof Error ? e.message : String(e) }, "active config is unreadable: entering maintenance mode");
    events.publish("config.unreadable", "the persisted config could not be parsed; maintenance mode", {});
    return undefined;
  }
}

async function wipe(platform: Platform, areas: readonly string[], log: Logger): Promise<void> {
  for (const area of areas) {
    const dir = area === "state" ? platform.paths.state : platform.paths.ephemeral;
    // Wipe the contents, not the mount point. On STATE only the config goes:
    // the boot-slot record is the bootloader's, not the node's identity.
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (area === "ephemeral" || name === "config") await rm(join(dir, name), { recursive: true, force: true });
    }
    log.info({ area }, "wiped");
  }
}

function splitListen(listen: string): [string, number] {
  const i = listen.lastIndexOf(":");
  if (i < 0) throw new CairnError("INVALID_ARGUMENT", `--listen must be host:port, got "${listen}"`);
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CairnError("INVALID_ARGUMENT", `--listen port must be 0-65535, got "${listen.slice(i + 1)}"`);
  return [listen.slice(0, i), port];
}
