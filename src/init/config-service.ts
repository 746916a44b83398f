import type { Logger } from "pino";
import { parse as parseYaml } from "yaml";
import { ApplyMode, type ApplyConfigurationRequest, type ApplyConfigurationResponse, type GetConfigurationResponse } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import {
  classifyDeltas,
  diffConfigs,
  parseMachineConfig,
  rebootRequiredPaths,
  REDACTED,
  redactMachineConfig,
  restoreRedactedSecrets,
  stringifyMachineConfig,
  validateMachineConfig,
  unifiedConfigDiff,
  type MachineConfig,
} from "../machinery/config/index.js";
import type { ConfigStore } from "./config-store.js";
import type { EventBus } from "./event-bus.js";

/** Throws the config module's YAML syntax error, ignoring schema problems (validated after restoring secrets). */
function parseMachineConfigSyntaxOnly(raw: string): void {
  try {
    parseYaml(raw);
  } catch {
    parseMachineConfig(raw, "request");
  }
}

const DEFAULT_TRY_SECONDS = 60;
const MAX_TRY_SECONDS = 86_400;

/** What the config service needs from the rest of the boot. */
export interface ConfigServiceDeps {
  readonly store: ConfigStore;
  readonly events: EventBus;
  readonly log: Logger;
  /** Applies the live parts of `next` (controllers). */
  applyLive(next: MachineConfig, prev: MachineConfig | undefined): Promise<void>;
  /**
   * A config is about to be persisted for the next boot (active or staged):
   * prepares what only the boot reads (kernel args in the boot entry). A
   * failure refuses the apply before anything is written.
   */
  persisting?(cfg: MachineConfig): Promise<void>;
  /** The node got its first config: leave maintenance mode. */
  activated(cfg: MachineConfig): void;
  /** Persisted a change that needs a reboot: reboot now. */
  reboot(reason: string): void;
}

interface TryState {
  readonly previous: MachineConfig | undefined;
  readonly deadline: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * The node's configuration: what is active, what is staged, and the apply
 * modes (AUTO, NO_REBOOT, REBOOT, STAGED, TRY, dry run). Every request is
 * validated completely before anything is written or applied.
 */
export class ConfigService {
  private activeCfg: MachineConfig | undefined;
  private tryState: TryState | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConfigServiceDeps, initial: MachineConfig | undefined) {
    this.activeCfg = initial;
  }

  get active(): MachineConfig | undefined {
    return this.activeCfg;
  }

  get maintenance(): boolean {
    return this.activeCfg === undefined;
  }

  /** Applies one request; calls are serialised so two applies never interleave. */
  apply(req: ApplyConfigurationRequest): Promise<ApplyConfigurationResponse> {
    const run = this.queue.then(() => this.applyNow(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(req: ApplyConfigurationRequest): Promise<ApplyConfigurationResponse> {
    const { text, next } = this.parseRequest(Buffer.from(req.data).toString("utf8"));
    const prev = this.activeCfg;
    const changes = classifyDeltas(diffConfigs(prev, next));
    const rebootPaths = rebootRequiredPaths(changes);
    const mode = this.resolveMode(req.mode, rebootPaths);
    const diff = unifiedConfigDiff(prev ? stringifyMachineConfig(redactMachineConfig(prev)) : "", stringifyMachineConfig(redactMachineConfig(next)), {
      oldLabel: "active",
      newLabel: "requested",
    });
    const base = {
      mode,
      diff,
      changes: changes.map((c) => ({ path: c.path, op: c.op, needsReboot: c.needsReboot })),
      rebootRequiredPaths: rebootPaths,
      dryRun: req.dryRun,
      warnings: [] as string[],
      tryDeadlineUnixMs: 0,
    };
    if (req.dryRun) return { ...base, message: `dry run: ${changes.length} change(s), nothing applied` };

    if (prev === undefined) return this.activateFirst(next, text, base);

    switch (mode) {
      case ApplyMode.APPLY_MODE_STAGED: {
        await this.deps.persisting?.(next);
        await this.deps.store.writeStaged(text);
        this.deps.events.publish("config.staged", "config staged for the next boot", { changes: String(changes.length) });
        const auto = (req.mode === ApplyMode.APPLY_MODE_AUTO || req.mode === ApplyMode.UNRECOGNIZED) && rebootPaths.length > 0;
        const message = auto
          ? `auto: ${rebootPaths.length} change(s) need a reboot (${rebootPaths.join(", ")}): the whole config is staged for the next boot and nothing was applied live; reboot the node (nodectl reboot) when it suits you`
          : "config staged: it takes effect at the next boot";
        return { ...base, message, warnings: auto ? [`not applied live: ${rebootPaths.join(", ")} need a reboot`] : [] };
      }
      case ApplyMode.APPLY_MODE_TRY:
        return this.applyTry(next, prev, req.tryTimeoutSeconds, base);
      case ApplyMode.APPLY_MODE_REBOOT:
        await this.commit(text, next);
        this.deps.events.publish("config.applied", "config persisted, rebooting", { mode: "reboot" });
        this.deps.reboot("config applied with mode reboot");
        return { ...base, message: "config persisted: rebooting to apply it" };
      default: {
        // Live first, persisted after: a change the kernel refuses is undone
        // and never written, so nothing is left half-applied.
        await this.applyLiveOrUndo(next, prev);
        await this.commit(text, next);
        this.deps.events.publish("config.applied", "config applied live", { changes: String(changes.length) });
        return { ...base, message: changes.length === 0 ? "no changes" : `applied live: ${changes.length} change(s)` };
      }
    }
  }

  /**
   * Validates the requested document completely. A document that came from
   * GetConfiguration carries "[redacted]" in place of secrets: those get the
   * current secret back, and the document persisted is the restored one.
   */
  private parseRequest(raw: string): { text: string; next: MachineConfig } {
    let next: MachineConfig;
    let text = raw;
    if (this.activeCfg && raw.includes(REDACTED)) {
      // parseMachineConfig first: it reports YAML syntax errors with line:column.
      parseMachineConfigSyntaxOnly(raw);
      next = validateMachineConfig(restoreRedactedSecrets(parseYaml(raw), this.activeCfg), "request");
      text = stringifyMachineConfig(next);
    } else {
      next = parseMachineConfig(raw, "request");
    }
    if (!next.machine.ca.key) {
      throw new CairnError("CONFIG_INVALID", "request: 1 problem in machine config", {
        details: [{ path: "machine.ca.key", message: "required on the node: it mints its serving certificate with the CA key" }],
      });
    }
    return { text, next };
  }

  /**
   * AUTO never reboots by itself (Talos learnt that implicit reboots surprise
   * people, and a reboot is an operator's decision: drain first, pick the
   * moment): when every change applies live it is NO_REBOOT; otherwise the
   * whole document is STAGED for the next boot, nothing is applied live, and
   * the response names the fields that forced it. NO_REBOOT and TRY refuse
   * such changes, naming the fields.
   */
  private resolveMode(mode: ApplyMode, rebootPaths: string[]): ApplyMode {
    const m = mode === ApplyMode.UNRECOGNIZED ? ApplyMode.APPLY_MODE_AUTO : mode;
    if (m === ApplyMode.APPLY_MODE_AUTO) return rebootPaths.length > 0 ? ApplyMode.APPLY_MODE_STAGED : ApplyMode.APPLY_MODE_NO_REBOOT;
    if ((m === ApplyMode.APPLY_MODE_NO_REBOOT || m === ApplyMode.APPLY_MODE_TRY) && rebootPaths.length > 0) {
      const name = m === ApplyMode.APPLY_MODE_TRY ? "try" : "no-reboot";
      throw new CairnError("FAILED_PRECONDITION", `mode ${name} cannot apply changes that need a reboot`, {
        details: rebootPaths.map((path) => ({ path, message: "needs a reboot to take effect" })),
        hint: "use --mode reboot, --mode staged or --mode auto",
      });
    }
    return m;
  }

  /**
   * Applies `next` live; when a controller fails (e.g. EROFS writing a file
   * on the read-only root), re-applies `prev` and reports the kernel's error.
   */
  private async applyLiveOrUndo(next: MachineConfig, prev: MachineConfig | undefined): Promise<void> {
    try {
      await this.deps.applyLive(next, prev);
    } catch (e) {
      if (prev) {
        await this.deps.applyLive(prev, next).catch((undoErr: unknown) => this.deps.log.error({ err: undoErr }, "undoing a failed live apply failed"));
      }
      const err = CairnError.from(e, "FAILED_PRECONDITION");
      throw new CairnError(err.code === "INTERNAL" ? "FAILED_PRECONDITION" : err.code, `the node could not apply the config; nothing was persisted: ${err.message}`, {
        cause: e,
        details: err.details,
      });
    }
  }

  private async activateFirst(next: MachineConfig, text: string, base: Omit<ApplyConfigurationResponse, "message">): Promise<ApplyConfigurationResponse> {
    await this.applyLiveOrUndo(next, undefined);
    await this.commit(text, next);
    this.deps.events.publish("config.applied", "first config applied: leaving maintenance mode", {});
    this.deps.activated(next);
    // Leaving maintenance applies everything at once: nothing waits for a reboot.
    const changes = base.changes.map((c) => ({ ...c, needsReboot: false }));
    return { ...base, changes, rebootRequiredPaths: [], mode: ApplyMode.APPLY_MODE_NO_REBOOT, message: "config applied: the node leaves maintenance mode and now requires mTLS" };
  }

  /** Persists first, then switches memory: a crash in between boots the new config. */
  private async commit(text: string, next: MachineConfig): Promise<void> {
    this.cancelTry();
    await this.deps.persisting?.(next);
    await this.deps.store.writeActive(text);
    await this.deps.store.clearStaged();
    this.activeCfg = next;
  }

  private async applyTry(next: MachineConfig, prev: MachineConfig, timeoutSeconds: number, base: Omit<ApplyConfigurationResponse, "message">): Promise<ApplyConfigurationResponse> {
    const seconds = timeoutSeconds === 0 ? DEFAULT_TRY_SECONDS : timeoutSeconds;
    if (seconds > MAX_TRY_SECONDS) {
      throw new CairnError("INVALID_ARGUMENT", `try timeout ${seconds}s is longer than ${MAX_TRY_SECONDS}s`, { details: [{ path: "try_timeout_seconds", message: "too long" }] });
    }
    // The try config lives in memory only: a reboot during the try boots the
    // persisted (previous) config, which is the safe outcome.
    const previous = this.tryState?.previous ?? prev;
    this.cancelTry();
    await this.applyLiveOrUndo(next, this.activeCfg);
    this.activeCfg = next;
    const deadline = Date.now() + seconds * 1000;
    const timer = setTimeout(() => void this.revertTry(), seconds * 1000);
    timer.unref();
    this.tryState = { previous, deadline, timer };
    this.deps.events.publish("config.try", "config applied on trial", { timeoutSeconds: String(seconds) });
    return { ...base, tryDeadlineUnixMs: deadline, message: `applied on trial: reverts in ${seconds}s unless confirmed by another apply` };
  }

  private async revertTry(): Promise<void> {
    const state = this.tryState;
    if (!state) return;
    this.tryState = undefined;
    try {
      const tried = this.activeCfg;
      this.activeCfg = state.previous;
      if (state.previous) await this.deps.applyLive(state.previous, tried);
      this.deps.events.publish("config.reverted", "trial config reverted after its timeout", {});
      this.deps.log.info({}, "trial config reverted");
    } catch (e) {
      this.deps.log.error({ err: e }, "reverting the trial config failed");
    }
  }

  private cancelTry(): void {
    if (this.tryState) clearTimeout(this.tryState.timer);
    this.tryState = undefined;
  }

  /** The active (or staged) config, secrets redacted. */
  async get(staged: boolean): Promise<GetConfigurationResponse> {
    const stagedText = await this.deps.store.readStaged();
    const cfg = staged ? (stagedText === undefined ? undefined : parseMachineConfig(stagedText, "staged config")) : this.activeCfg;
    if (!cfg) throw new CairnError("NOT_FOUND", staged ? "no config is staged" : "the node has no config yet (maintenance mode)");
    return { data: Buffer.from(stringifyMachineConfig(redactMachineConfig(cfg))), stagedPending: stagedText !== undefined, tryPending: this.tryState !== undefined };
  }

  close(): void {
    this.cancelTry();
  }
}
