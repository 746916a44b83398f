import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import type { RollbackResponse, UpgradeHeader, UpgradeResponse } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { assessBoot, type BootAssessment } from "../../machinery/boot/index.js";
import type { BootIdentity, BootStore } from "../../platform/index.js";
import type { EventBus } from "../event-bus.js";
import { blessSlot } from "./bless.js";
import { runHealthChecks, type HealthCheck } from "./health.js";
import { BundleStreamVerifier } from "../../machinery/bundle/index.js";
import { fetchBundle } from "./fetch-bundle.js";
import { rollbackToOther } from "./rollback.js";
import type { SlotConfigs } from "./slot-config.js";
import { otherSlot, readAssessment } from "./slot-entries.js";
import { checkSlotFits, slotRoom } from "./slot-fit.js";
import { spoolUpload, sweepSpool, type SpoolExpectation } from "./spool.js";
import { activateStaged, discardStaged, stagedEntry } from "./staged-slot.js";
import { checkManifest, requireTrustedKeys } from "./verify-upload.js";
import { MAX_UPGRADE_TRIES, UPGRADE_TRIES, writeSlot, type WriteStep } from "./write-slot.js";

/** Default wait between "API up and config applied" and blessing a trial boot. */
export const DEFAULT_BLESS_GRACE_MS = 10_000;
/** How long after the grace period health checks may keep answering "waiting" before the trial counts as unhealthy. */
export const HEALTH_DEADLINE_MS = 120_000;
/** Pause between publishing `upgrade.unhealthy` and the reboot, so the event and logs can be read. */
export const UNHEALTHY_REBOOT_DELAY_MS = 5_000;

export interface UpgradeDeps {
  readonly store: BootStore;
  readonly identity: BootIdentity;
  readonly events: EventBus;
  readonly log: Logger;
  /** Where uploads are spooled (on EPHEMERAL). */
  readonly spoolDir: string;
  /** Keys from the machine config (machine.update.publicKeys), read at each upgrade. */
  readonly configKeys: () => readonly string[];
  readonly reboot: (why: string) => void;
  /** Each slot's last-known-good config (saved at blessing and when leaving a good slot). */
  readonly slotConfigs: SlotConfigs;
  /** The active config's text as persisted; undefined in maintenance mode. */
  readonly activeConfig: () => Promise<string | undefined>;
}

/**
 * A/B upgrades for one boot: install (spool, verify, write the inactive
 * slot, switch the default), blessing of a trial boot, rollback, and the
 * slot view Version reports. One operation at a time; every refusal comes
 * before the first write, so a refused upgrade changes nothing.
 */
export class UpgradeService {
  #assessment: BootAssessment;
  #busy = false;
  #blessTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly d: UpgradeDeps, assessment: BootAssessment) {
    this.#assessment = assessment;
  }

  /** Reads the boot entries, sweeps old spool files and reports a fallback boot. */
  static async open(d: UpgradeDeps): Promise<UpgradeService> {
    await sweepSpool(d.spoolDir).catch((err: unknown) => d.log.warn({ err }, "sweeping the upgrade spool failed"));
    const svc = new UpgradeService(d, await UpgradeService.assess(d));
    const rb = svc.#assessment.rolledBackFrom;
    if (rb) {
      d.log.warn({ from: rb.slot, version: rb.version, reason: rb.reason }, "boot fell back to the previous slot");
      d.events.publish("upgrade.rolledback", rb.reason, { fromSlot: rb.slot, fromVersion: rb.version, slot: d.identity.slot });
    }
    return svc;
  }

  private static async assess(d: Pick<UpgradeDeps, "store" | "identity" | "log">): Promise<BootAssessment> {
    const booted = { slot: d.identity.slot, version: d.identity.osVersion };
    try {
      return await readAssessment(d.store, booted);
    } catch (err) {
      // A node whose EFI partition cannot be read still serves; it just cannot upgrade.
      d.log.error({ err }, "reading the boot entries failed");
      return assessBoot([], booted);
    }
  }

  /** Reads the entries and assesses this boot; a node whose EFI partition cannot be read counts as not on trial. */
  static assessBoot(d: Pick<UpgradeDeps, "store" | "identity" | "log">): Promise<BootAssessment> {
    return UpgradeService.assess(d);
  }

  /** The current view of both slots (refreshed after every change). */
  get assessment(): BootAssessment {
    return this.#assessment;
  }

  private async refresh(): Promise<void> {
    this.#assessment = await UpgradeService.assess(this.d);
  }

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new CairnError("ABORTED", `${what}: another upgrade or rollback is in progress`);
    this.#busy = true;
    try {
      return await fn();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Installs a bundle streamed by the client (`chunks`) or fetched from
   * `header.url`. The bytes are spooled while the streaming verifier checks
   * the signature (as soon as the manifest arrives), the manifest (arch,
   * version) and every part's sha256; the slot's size is checked; only then
   * is the booted slot's config saved as its last-known-good and the
   * inactive slot written.
   */
  async install(header: UpgradeHeader, chunks: AsyncIterable<Uint8Array>): Promise<UpgradeResponse> {
    return this.exclusive("upgrade", async () => {
      const { identity, events, log, store } = this.d;
      if (this.#assessment.trial) {
        throw new CairnError("FAILED_PRECONDITION", `slot ${identity.slot} is on trial and not blessed yet: installing now would overwrite the known-good slot`, {
          hint: "wait until Version shows the booted slot GOOD",
        });
      }
      if (header.tries > MAX_UPGRADE_TRIES) throw new CairnError("INVALID_ARGUMENT", `tries: ${header.tries} is more than ${MAX_UPGRADE_TRIES}`);
      const fromUrl = header.url !== "";
      // An upload must announce size and digest; a download may (then they are checked too).
      const expect: SpoolExpectation | undefined = !fromUrl || header.size > 0 || header.sha256 !== "" ? { size: header.size, sha256: header.sha256 } : undefined;
      const trustedKeys = [...(await store.releaseKeys()), ...this.d.configKeys()];
      requireTrustedKeys(trustedKeys);
      const slot = otherSlot(identity.slot);
      const room = await slotRoom(store, slot);
      const verifier = new BundleStreamVerifier(trustedKeys, (m) => {
        checkManifest(m, { arch: identity.arch, runningVersion: identity.osVersion, force: header.force });
        checkSlotFits(m, room);
      });
      let verifyNs = 0n;
      const t0 = Date.now();
      if (fromUrl) log.info({ url: header.url }, "downloading upgrade bundle");
      const spoolPath = await spoolUpload(this.d.spoolDir, expect, fromUrl ? fetchBundle(header.url) : chunks, (c) => {
        const s = process.hrtime.bigint();
        verifier.update(c);
        verifyNs += process.hrtime.bigint() - s;
      });
      try {
        const bundle = verifier.finish();
        const receiveMs = Date.now() - t0;
        const verifyMs = Number(verifyNs / 1_000_000n);
        const size = String(bundle.parts.reduce((n, p) => Math.max(n, p.offset + p.size), 0));
        events.publish("upgrade.received", fromUrl ? `upgrade bundle downloaded from ${header.url}` : "upgrade bundle received", { bytes: size, ...(fromUrl ? { url: header.url } : { sha256: header.sha256 }) });
        const version = bundle.manifest.version;
        events.publish("upgrade.verified", "upgrade bundle verified", { version, keyId: bundle.keyId });
        await this.saveBootedConfig("install");
        const t1 = Date.now();
        const onStep = (step: WriteStep) => log.info({ slot, version, step }, "writing slot");
        const { entry } = await writeSlot(store, { slot, bundle, spoolPath, stageOnly: header.stageOnly, booted: { version: identity.osVersion }, tries: header.tries || UPGRADE_TRIES, onStep });
        const writeMs = Date.now() - t1;
        await this.refresh();
        const timings = { receiveMs: String(receiveMs), verifyMs: String(verifyMs), writeMs: String(writeMs) };
        events.publish("upgrade.written", `slot ${slot} written`, { slot, version, entry, default: String(!header.stageOnly), ...timings });
        log.info({ slot, version, entry, receiveMs, verifyMs, writeMs }, "upgrade written");
        const rebooting = header.reboot && !header.stageOnly;
        if (rebooting) {
          events.publish("upgrade.rebooting", `rebooting into slot ${slot}`, { slot, version });
          this.d.reboot(`upgrade to ${version} in slot ${slot}`);
        }
        const next = header.stageOnly ? "staged (not the default)" : rebooting ? "rebooting into it" : "it boots next";
        return { slot, version, rebooting, bootId: identity.bootId, message: `installed ${version} in slot ${slot}; ${next}` };
      } finally {
        await rm(spoolPath, { force: true });
      }
    });
  }

  /** The version staged (stage_only) in the inactive slot and never booted, if any. */
  get stagedVersion(): string | undefined {
    const e = this.#assessment.slots.find((s) => s.name !== this.d.identity.slot)?.entry;
    return e && stagedEntry([e], this.d.identity.slot) ? e.version : undefined;
  }

  /**
   * Makes the staged release in the inactive slot the default for the next
   * boot (a trial with its boot counter), without rebooting. Used by the
   * unattended updater once its reboot strategy allows the reboot.
   */
  async activateStaged(version: string): Promise<{ slot: string; entry: string }> {
    return this.exclusive("activate staged release", async () => {
      const r = await activateStaged(this.d.store, this.d.identity.slot, version);
      await this.refresh();
      this.d.events.publish("upgrade.activated", `staged ${version} in slot ${r.slot} is the default for the next boot`, { slot: r.slot, version, entry: r.entry });
      return r;
    });
  }

  /** Drops the staged release's entry (the fleet marked it bad); its slot is unbootable until written again. */
  async discardStaged(): Promise<string | undefined> {
    return this.exclusive("discard staged release", async () => {
      const file = await discardStaged(this.d.store, this.d.identity.slot);
      await this.refresh();
      return file;
    });
  }

  /** Saves the active config as the booted slot's last-known-good, if this boot is good (blessed, not a trial). */
  private async saveBootedConfig(why: string): Promise<void> {
    if (this.#assessment.trial) return;
    const text = await this.d.activeConfig();
    if (text === undefined) return;
    await this.d.slotConfigs.save(this.d.identity.slot, text);
    this.d.log.info({ slot: this.d.identity.slot, why }, "slot's last-known-good config saved");
  }

  async rollback(reboot: boolean): Promise<RollbackResponse> {
    return this.exclusive("rollback", async () => {
      const { identity, events } = this.d;
      await this.saveBootedConfig("rollback");
      const next = await rollbackToOther(this.d.store, { slot: identity.slot, version: identity.osVersion });
      await this.refresh();
      events.publish("upgrade.rollback", `slot ${next.slot} (${next.version}) is the default again`, { slot: next.slot, version: next.version });
      if (reboot) this.d.reboot(`rollback to ${next.version} in slot ${next.slot}`);
      return { nextSlot: next.slot, nextVersion: next.version };
    });
  }

  /**
   * Blesses a trial boot `graceMs` after the API is up, once every health
   * check is ok; checks still waiting are asked again every second. A failed
   * check, or one still waiting `HEALTH_DEADLINE_MS` after the grace period,
   * makes the trial unhealthy: `upgrade.unhealthy` is published and the node
   * reboots after `UNHEALTHY_REBOOT_DELAY_MS`, burning one of the slot's
   * boot tries (see docs/upgrades.md).
   */
  scheduleBlessing(checks: readonly HealthCheck[], graceMs: number): void {
    if (!this.#assessment.trial) return;
    const deadline = Date.now() + graceMs + HEALTH_DEADLINE_MS;
    const attempt = async (): Promise<void> => {
      this.#blessTimer = undefined;
      const verdict = await runHealthChecks(checks);
      if (verdict.status === "ok" && !this.#busy) return this.bless();
      if (verdict.status === "failed" || (verdict.status === "waiting" && Date.now() >= deadline)) return this.unhealthy(verdict.problems);
      this.#blessTimer = setTimeout(run, 1000);
    };
    const run = (): void => void attempt().catch((err: unknown) => this.d.log.error({ err }, "blessing the boot failed"));
    this.#blessTimer = setTimeout(run, graceMs);
  }

  /** A trial boot that failed its health checks is not blessed: say why, then reboot to burn the try. */
  private unhealthy(problems: readonly string[]): void {
    const { identity, events, log } = this.d;
    const tries = this.#assessment.slots.find((s) => s.name === identity.slot)?.triesLeft ?? 0;
    const why = `slot ${identity.slot} (${identity.osVersion}) failed its health checks on trial: ${problems.join("; ")}`;
    log.error({ slot: identity.slot, version: identity.osVersion, problems, triesLeft: tries }, "trial boot unhealthy: not blessing, rebooting");
    events.publish("upgrade.unhealthy", why, { slot: identity.slot, version: identity.osVersion, triesLeft: String(tries), problems: problems.join("; ") });
    this.#blessTimer = setTimeout(() => this.d.reboot(why), UNHEALTHY_REBOOT_DELAY_MS);
  }

  private async bless(): Promise<void> {
    await this.exclusive("bless", async () => {
      const { identity, events, log, store } = this.d;
      // The config this trial ran well with is saved before the boot counts as good.
      const text = await this.d.activeConfig();
      if (text !== undefined) await this.d.slotConfigs.save(identity.slot, text);
      const renamed = await blessSlot(store, identity.slot);
      await this.refresh();
      if (!renamed) return;
      log.info({ slot: identity.slot, from: renamed.from, to: renamed.to }, "boot blessed");
      events.publish("upgrade.blessed", `slot ${identity.slot} (${identity.osVersion}) blessed`, { slot: identity.slot, version: identity.osVersion, entry: renamed.to });
    });
  }

  /** Stops a pending blessing (the boot is ending). */
  close(): void {
    if (this.#blessTimer) clearTimeout(this.#blessTimer);
  }
}
