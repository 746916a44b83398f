import type { Logger } from "pino";
import type { UpdaterStatus } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import type { UpdateConfig } from "../../machinery/config/update-schema.js";
import { fetchChannel, pickUpdate } from "../../machinery/release/index.js";
import { nextStep, windowState, type Step, type UpdaterState } from "../../machinery/update/index.js";
import type { BootIdentity } from "../../platform/index.js";
import type { EventBus } from "../event-bus.js";
import type { UpgradeService } from "../upgrade/index.js";
import { coordinatorFor, type RebootCoordinator } from "./coordinator.js";
import { EMPTY_UPDATER, UpdaterStore, type PersistedUpdater } from "./updater-store.js";

/** After a failed step, wait this long (or the check interval, if shorter) before the next try. */
const RETRY_MS = 30_000;
/** While a slot of the fleet's semaphore is busy: the next attempt in this long, plus a quarter of spread. */
const LOCK_POLL_MS = 2_000;
/** While a trial boot waits for its blessing. */
const BLESS_POLL_MS = 1_000;
/** Longest sleep: a wrong clock or a missed wake-up costs at most this. */
const MAX_SLEEP_MS = 300_000;

export interface UpdaterDeps {
  readonly identity: BootIdentity;
  readonly events: EventBus;
  readonly log: Logger;
  readonly stateDir: string;
  /** This node's stable id (STATE/node-id). */
  readonly nodeId: string;
  /** The image's release keys (/etc/cairn/release-keys), trusted besides machine.update.publicKeys. */
  readonly imageKeys: () => Promise<readonly string[]>;
  readonly upgrades: UpgradeService;
  readonly reboot: (why: string) => void;
  readonly now?: () => number;
}

/**
 * The unattended updater (issue 8): runs while machine.update.repository
 * is set. Each tick asks the pure policy (nextStep) for one step and does
 * it: check the signed channel, download and install the picked release
 * STAGED into the inactive slot (the Upgrade RPC's install path, same
 * verification), take a fleet reboot slot, make the staged slot the
 * default and reboot, as reboot.strategy allows. The next boot finishes the
 * job: once the new slot is blessed the slot is given back; a boot that
 * fell back marks the release bad and keeps the slot, so the fleet halts.
 * Every step is an `update.*` event; status() feeds Version.updater.
 */
export class Updater {
  private cfg: UpdateConfig | undefined;
  private st: PersistedUpdater = EMPTY_UPDATER;
  private readonly store: UpdaterStore;
  /** Whether this boot's afterBoot (finish or report the reboot the updater started) has run. */
  private booted = false;
  private coord: RebootCoordinator | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private closed = false;
  private step: Step | undefined;
  private phase = "disabled";
  private wakeAt = 0;
  private lastError = "";
  private fleetBad = new Map<string, string>();
  /** Events published once per subject (window waits, halts), not on every tick. */
  private readonly said = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly d: UpdaterDeps) {
    this.store = new UpdaterStore(d.stateDir);
    this.now = d.now ?? Date.now;
    // The blessing ends an update: give the slot back at once rather than at the next poll.
    d.events.subscribe((e) => {
      if (e.type === "upgrade.blessed" && this.st.pending && !this.closed) this.schedule(0);
    });
  }

  /** Starts, re-aims or stops the updater for a (new) machine config; the whole block applies live. */
  configure(cfg: UpdateConfig | undefined): void {
    if (this.closed) return;
    const next = cfg?.repository !== undefined ? cfg : undefined;
    const changed = JSON.stringify(next) !== JSON.stringify(this.cfg);
    if (!changed) return;
    const was = this.cfg !== undefined;
    this.cfg = next;
    this.coord?.close();
    this.coord = undefined;
    if (!next) {
      this.clearTimer();
      this.phase = "disabled";
      if (was) this.publish("update.stopped", "unattended updates off (machine.update.repository unset)", {});
      return;
    }
    this.publish(was ? "update.reconfigured" : "update.started", `following channel ${next.channel} at ${next.repository}; reboot strategy ${next.reboot.strategy}`, {
      channel: next.channel ?? "",
      repository: next.repository ?? "",
      strategy: next.reboot.strategy,
      nodeId: this.d.nodeId,
    });
    this.schedule(0);
  }

  /** Stops timers and keep-alives (the boot ends); a held slot is resumed by the next boot. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    this.coord?.close();
  }

  status(): UpdaterStatus {
    const p = this.st.policy;
    return {
      enabled: this.cfg !== undefined,
      nodeId: this.d.nodeId,
      channel: this.cfg?.channel ?? "",
      strategy: this.cfg?.reboot.strategy ?? "",
      phase: this.phase,
      reason: this.step?.reason ?? "",
      availableVersion: p.available?.version ?? "",
      stagedVersion: p.staged ?? "",
      holdingLock: this.coord?.holding ?? (this.st.holder !== undefined || this.st.fleetLockHeld === true),
      lastCheckUnixMs: p.lastCheckAt ?? 0,
      nextWakeUnixMs: this.phase === "wait" ? this.wakeAt : 0,
      lastError: this.lastError,
      badVersions: [...this.badSet()].sort(),
    };
  }

  private publish(type: string, message: string, fields: Record<string, string>): void {
    this.d.events.publish(type, message, fields);
  }

  private once(key: string, type: string, message: string, fields: Record<string, string>): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.publish(type, message, fields);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.closed || !this.cfg) return;
    this.clearTimer();
    this.timer = setTimeout(() => void this.tick(), Math.max(0, Math.min(ms, MAX_SLEEP_MS)));
  }

  private badSet(): Set<string> {
    return new Set([...this.st.bad, ...this.fleetBad.keys()]);
  }

  private async save(next: Partial<PersistedUpdater>): Promise<void> {
    const h = this.coord?.holderState;
    this.st = { ...this.st, ...next };
    if (this.coord?.kind === "etcd") this.st = { ...this.st, holder: h };
    if (this.coord?.kind === "fleetlock") this.st = { ...this.st, fleetLockHeld: this.coord.holding };
    await this.store.save(this.st);
  }

  private setPolicy(p: Partial<UpdaterState>): Promise<void> {
    return this.save({ policy: { ...this.st.policy, ...p } });
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.timer = undefined;
    let sleep = 0;
    try {
      const cfg = this.cfg;
      if (!cfg || this.closed) return;
      if (!this.booted) {
        // Retried on the next tick if it fails (e.g. etcd unreachable when a rollback must be reported).
        await this.afterBoot(cfg);
        this.booted = true;
      }
      await this.ensureCoordinator(cfg);
      sleep = await this.perform(cfg);
      this.lastError = "";
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.lastError = msg;
      this.d.log.warn({ err: msg, step: this.step?.action }, "update step failed");
      this.publish("update.failed", `${this.step?.action ?? "update"} failed: ${msg}`, { step: this.step?.action ?? "", error: msg });
      sleep = Math.min(RETRY_MS, (this.cfg?.checkIntervalSeconds ?? 30) * 1000);
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      sleep = 0;
    }
    if (sleep !== Infinity) this.schedule(sleep);
  }

  /** The coordinator for this config; a slot remembered from before is resumed, or forgotten if its lease is gone. */
  private async ensureCoordinator(cfg: UpdateConfig): Promise<void> {
    if (this.coord) return;
    this.coord = coordinatorFor(cfg, this.d.nodeId, this.st, (why) => this.lockLost(why));
    const remembered = this.coord?.holding ?? false;
    const held = remembered ? await this.coord!.resume() : false;
    if (remembered && !held) this.publish("update.lock-lost", "the fleet reboot slot held before is gone (lease expired)", {});
    if ((this.st.policy.lock === "held") !== held || remembered) await this.setPolicy({ lock: held && !this.st.halted ? "held" : "none" });
  }

  private lockLost(why: string): void {
    this.d.log.warn({ why }, "reboot slot lost");
    this.publish("update.lock-lost", `the fleet reboot slot was lost: ${why}`, { why });
    void this.setPolicy({ lock: "none" }).catch(() => undefined);
    this.schedule(0);
  }

  /**
   * Once per boot, before any step: finishes a reboot this updater started.
   * Booted into the release: wait for the blessing (the slot stays held),
   * then give the slot back. Booted anything else: the release fell back;
   * it is bad here and, with etcd, for the fleet, and the slot is kept.
   */
  private async afterBoot(cfg: UpdateConfig): Promise<void> {
    this.st = await this.store.load((why) => this.d.log.warn({ why, path: this.store.path }, "updater state unreadable: starting afresh"));
    const { identity, upgrades } = this.d;
    const staged = upgrades.stagedVersion;
    const policy = this.st.policy;
    // What the boot entries say wins over what was remembered.
    if (policy.staged !== undefined && policy.staged !== staged) this.st = { ...this.st, policy: { ...policy, staged: undefined, downloaded: undefined } };
    const pending = this.st.pending;
    if (!pending) return this.store.save(this.st);
    await this.ensureCoordinator(cfg);
    const resumed = this.coord?.holding ?? false;
    if (identity.osVersion === pending.version) {
      this.phase = "awaiting-blessing";
      this.publish("update.booted", `booted ${pending.version} (from ${pending.fromVersion}); waiting for the blessing`, { version: pending.version, fromVersion: pending.fromVersion, slot: identity.slot, holdingLock: String(resumed) });
      return this.save({});
    }
    const rb = upgrades.assessment.rolledBackFrom;
    if (rb?.version !== pending.version && staged === pending.version) {
      // Its slot was never tried (the counter shows no try): the reboot into it did not happen, e.g. a power cut
      // between persisting `pending` and the switch. Not the release's fault: it stays staged and the updater
      // starts over (with the slot, if its lease survived), instead of marking a good release bad for the fleet.
      this.publish("update.interrupted", `the reboot into ${pending.version} did not happen (its slot was never tried; booted ${identity.osVersion} in slot ${identity.slot}); trying again`, {
        version: pending.version,
        bootedVersion: identity.osVersion,
        slot: identity.slot,
        holdingLock: String(resumed),
      });
      return this.save({ pending: undefined, policy: { ...this.st.policy, staged: pending.version, lock: resumed ? "held" : "none" } });
    }
    const reason = rb?.version === pending.version ? rb.reason : `booted ${identity.osVersion} in slot ${identity.slot} instead of ${pending.version}`;
    const bad = [...new Set([...this.st.bad, pending.version])];
    let marked = false;
    if (this.coord?.kind === "etcd") {
      await this.coord.markBad(pending.version, reason);
      marked = true;
    }
    const halted = { version: pending.version, reason };
    await this.save({ pending: undefined, bad, halted, policy: { ...this.st.policy, staged: undefined, downloaded: undefined, lock: "none" } });
    this.d.log.error({ version: pending.version, reason, markedBad: marked, keptSlot: resumed }, "update rolled back: release marked bad");
    this.publish("update.halted", `rolled back from ${pending.version}: ${reason}; ${marked ? "marked bad for the fleet" : "not installed here again"}${resumed ? "; keeping the reboot slot so the fleet halts" : ""}`, {
      version: pending.version,
      reason,
      markedBad: String(marked),
      keptLock: String(resumed),
    });
  }

  /** Does one step; returns how long to sleep before the next tick (Infinity: the boot is ending). */
  private async perform(cfg: UpdateConfig): Promise<number> {
    const { identity, upgrades } = this.d;
    const pending = this.st.pending;
    if (pending && identity.osVersion === pending.version) {
      if (upgrades.assessment.trial) return BLESS_POLL_MS;
      await this.finishUpdate(pending.version, pending.fromVersion);
    }
    if (this.st.halted) this.phase = "halted";
    const kept = this.st.halted !== undefined && this.coord?.holding === true;
    const state: UpdaterState = { ...this.st.policy, lock: kept ? "none" : this.st.policy.lock };
    const now = this.now();
    const step = nextStep({ now, config: cfg, seed: this.d.nodeId, state, bad: this.badSet() });
    this.step = step;
    if (!(kept && step.action === "wait")) this.phase = step.action;
    switch (step.action) {
      case "check":
        await this.check(cfg);
        return 0;
      case "download":
      case "stage":
        await this.stage(step.version!);
        return 0;
      case "unstage": {
        const why = this.fleetBad.get(step.version!) ?? "marked bad";
        await upgrades.discardStaged();
        await this.setPolicy({ staged: undefined, downloaded: undefined });
        this.publish("update.halted", `${step.version} ${why}: unstaged, not rebooting into it`, { version: step.version!, reason: why });
        return 0;
      }
      case "acquire-lock":
        return this.acquire(step.version!);
      case "release-lock":
        await this.coord?.release();
        await this.setPolicy({ lock: "none" });
        this.publish("update.lock-released", `reboot slot given back: ${step.reason}`, { reason: step.reason });
        return 0;
      case "reboot":
        await this.rebootInto(step.version!, cfg);
        return Infinity;
      case "wait":
        this.noteWait(cfg, now);
        this.wakeAt = step.wakeAt ?? now;
        return this.wakeAt - now;
    }
  }

  private noteWait(cfg: UpdateConfig, now: number): void {
    const v = this.st.policy.staged;
    if (!v) return;
    const strategy = cfg.reboot.strategy;
    const w = windowState(now, cfg.windows);
    if ((strategy === "window" || strategy === "coordinated") && !w.open) {
      const at = new Date(w.opensAt!).toISOString();
      this.once(`window:${v}:${at}`, "update.waiting-window", `${v} staged; reboot waits for the maintenance window opening ${at}`, { version: v, opensAt: at });
    } else if (strategy === "off") {
      this.once(`off:${v}`, "update.waiting-operator", `${v} staged; reboot strategy off: an operator reboots`, { version: v });
    }
  }

  private async check(cfg: UpdateConfig): Promise<void> {
    const { identity } = this.d;
    const keys = [...(await this.d.imageKeys()), ...cfg.publicKeys];
    const now = this.now();
    try {
      const ch = await fetchChannel(cfg.repository!, cfg.channel!, keys, this.st.seen);
      if (this.coord) this.fleetBad = await this.coord.badVersions();
      await this.maybeUnhalt();
      const { release, skipped } = pickUpdate(ch.payload, identity.osVersion, identity.arch, this.badSet());
      for (const s of skipped) {
        const why = this.fleetBad.get(s.version) ?? s.why;
        const type = this.badSet().has(s.version) ? "update.halted" : "update.skipped";
        this.once(`skip:${s.version}:${why}`, type, `release ${s.version} skipped: ${why}`, { version: s.version, reason: why });
      }
      const prev = this.st.policy.available;
      const available = release ? { version: release.version, firstSeenAt: prev?.version === release.version ? prev.firstSeenAt : now } : undefined;
      await this.save({ seen: ch.seen, ...(release ? { release } : {}), policy: { ...this.st.policy, lastCheckAt: now, available } });
      this.publish("update.checked", release ? `${release.version} available (running ${identity.osVersion})` : `up to date (${identity.osVersion})`, {
        channel: cfg.channel!,
        metadataVersion: String(ch.seen.metadataVersion),
        available: release?.version ?? "",
      });
      if (release && prev?.version !== release.version) {
        this.publish("update.available", `${release.version} available on channel ${cfg.channel} (running ${identity.osVersion})`, { version: release.version, url: release.url, sha256: release.sha256, size: String(release.size) });
      }
    } catch (e) {
      // A failed check counts as a check: the next one comes an interval later.
      await this.setPolicy({ lastCheckAt: now });
      throw e;
    }
  }

  /**
   * A halted node keeps its slot until an operator deletes the release's bad
   * mark in etcd (after publishing a fix): then it gives the slot back so the
   * fleet moves again. It still never installs that release itself.
   */
  private async maybeUnhalt(): Promise<void> {
    const h = this.st.halted;
    if (!h || this.coord?.kind !== "etcd" || this.fleetBad.has(h.version)) return;
    if (this.coord.holding) await this.coord.release();
    await this.save({ halted: undefined, policy: { ...this.st.policy, lock: "none" } });
    this.phase = "check";
    this.publish("update.lock-released", `the bad mark on ${h.version} was cleared: reboot slot given back, the fleet may move again`, { version: h.version, kind: "etcd" });
  }

  private async stage(version: string): Promise<void> {
    const rel = this.st.release;
    if (rel?.version !== version) throw new CairnError("FAILED_PRECONDITION", `no channel entry kept for ${version}: check again`);
    this.publish("update.downloading", `downloading ${version} from ${rel.url}`, { version, url: rel.url, size: String(rel.size) });
    const r = await this.d.upgrades.install(
      { url: rel.url, size: rel.size, sha256: rel.sha256, stageOnly: true, reboot: false, force: false, tries: 0 },
      (async function* () {})(),
    );
    await this.setPolicy({ downloaded: version, staged: r.version });
    this.publish("update.staged", `${r.version} staged in slot ${r.slot}; the reboot follows reboot.strategy`, { version: r.version, slot: r.slot });
  }

  private async acquire(version: string): Promise<number> {
    const c = this.coord;
    if (!c) throw new CairnError("FAILED_PRECONDITION", "reboot strategy coordinated without coordination");
    let got: boolean;
    try {
      got = await c.tryAcquire(version);
    } catch (e) {
      if (e instanceof CairnError && e.code === "FAILED_PRECONDITION") {
        this.fleetBad.set(version, e.message.replace(/^release \S+ is /, ""));
        this.publish("update.halted", `not rebooting into ${version}: ${e.message}`, { version, reason: e.message });
        return 0;
      }
      throw e;
    }
    if (!got) {
      this.once(`lockwait:${version}`, "update.waiting-lock", `${version} staged; every fleet reboot slot is taken: waiting`, { version });
      return LOCK_POLL_MS + Math.floor(Math.random() * LOCK_POLL_MS * 0.25);
    }
    await this.setPolicy({ lock: "held" });
    this.publish("update.lock-acquired", `fleet reboot slot taken for ${version} (${c.kind})`, { version, kind: c.kind, holder: this.d.nodeId, lease: c.holderState?.leaseId ?? "" });
    return 0;
  }

  private async rebootInto(version: string, cfg: UpdateConfig): Promise<void> {
    const { identity, upgrades } = this.d;
    // Persist first: the next boot must know it was ours (and resume the slot) even after a power cut here.
    await this.save({ pending: { version, fromVersion: identity.osVersion, fromSlot: identity.slot, at: this.now() } });
    try {
      await upgrades.activateStaged(version);
    } catch (e) {
      await this.save({ pending: undefined });
      throw e;
    }
    this.closed = true;
    this.publish("update.rebooting", `rebooting into ${version} (strategy ${cfg.reboot.strategy})`, { version, fromVersion: identity.osVersion, strategy: cfg.reboot.strategy, holdingLock: String(this.coord?.holding ?? false) });
    this.d.reboot(`unattended update to ${version}`);
  }

  /** The new release is blessed: the update is done, the slot goes back to the fleet. */
  private async finishUpdate(version: string, from: string): Promise<void> {
    const c = this.coord;
    if (c?.holding) {
      await c.release();
      this.publish("update.lock-released", `fleet reboot slot given back: ${version} is blessed`, { version, kind: c.kind });
    }
    await this.save({ pending: undefined, release: undefined, policy: { ...this.st.policy, staged: undefined, downloaded: undefined, available: undefined, lock: "none" } });
    this.publish("update.done", `updated ${from} → ${version}; boot blessed`, { version, fromVersion: from });
  }
}
