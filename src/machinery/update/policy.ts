import { createHash } from "node:crypto";
import type { UpdateConfig } from "../config/update-schema.js";
import { compareSemver } from "../release/semver.js";
import { windowState } from "./windows.js";

/** What the updater knows, persisted on STATE between ticks and boots. */
export interface UpdaterState {
  /** When the channel was last checked (ms), successfully or not. */
  readonly lastCheckAt?: number;
  /** The release the last check picked, and when this node first saw it. */
  readonly available?: { readonly version: string; readonly firstSeenAt: number };
  /** Version whose bundle is downloaded and checked on disk. */
  readonly downloaded?: string;
  /** Version written to the inactive slot, waiting for its reboot. */
  readonly staged?: string;
  /** Whether this node holds a slot of the fleet's reboot semaphore. */
  readonly lock: "none" | "held";
}

export interface PolicyInput {
  readonly now: number;
  readonly config: Pick<UpdateConfig, "checkIntervalSeconds" | "windows" | "jitterSeconds" | "reboot">;
  /** This node's identity (machine id): seeds its place in the rollout. */
  readonly seed: string;
  readonly state: UpdaterState;
  /** Versions the fleet marked bad (a node rolled back from them). */
  readonly bad: ReadonlySet<string>;
}

export type Action = "check" | "download" | "stage" | "unstage" | "acquire-lock" | "release-lock" | "reboot" | "wait";

/** The one next step, why, and for "wait" when to look again. */
export interface Step {
  readonly action: Action;
  readonly version?: string;
  readonly reason: string;
  /** For wait: the earliest moment anything can change by time alone (ms). */
  readonly wakeAt?: number;
}

/**
 * This node's delay (ms, in [0, jitterSeconds]) before it starts on a new
 * release: sha256(seed, version), so it is stable across restarts, differs
 * between nodes, and a node is not always the last one of every rollout.
 */
export function jitterMs(seed: string, version: string, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  const h = createHash("sha256").update(`${seed}\0${version}`).digest();
  return h.readUIntBE(0, 6) % (jitterSeconds * 1000 + 1);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Decides the updater's next step. Pure: the same input gives the same
 * answer, so every rule is tested with fixed clocks. Order of concerns:
 * 1. a staged release reboots as the strategy allows (or is unstaged if
 *    the fleet marked it bad, or replaced when a newer one appears);
 * 2. the channel is checked every checkIntervalSeconds;
 * 3. a new release waits out this node's jitter, then is downloaded, then
 *    staged (staging ignores windows: only the reboot waits for one);
 * 4. otherwise wait until the next moment time alone changes the answer.
 */
export function nextStep(input: PolicyInput): Step {
  const { now, config, state, bad } = input;
  const nextCheck = (state.lastCheckAt ?? -Infinity) + config.checkIntervalSeconds * 1000;
  const wakes: number[] = [nextCheck];
  const wait = (reason: string): Step => ({ action: "wait", reason, wakeAt: Math.max(now, Math.min(...wakes)) });
  const newer = state.available && (!state.staged || compareSemver(state.available.version, state.staged) > 0) && !bad.has(state.available.version) ? state.available : undefined;

  if (state.staged && bad.has(state.staged)) return { action: "unstage", version: state.staged, reason: `${state.staged} was marked bad by the fleet` };
  if (state.lock === "held" && !state.staged) return { action: "release-lock", reason: "holding a reboot slot with nothing staged" };

  if (state.staged && !newer) {
    const v = state.staged;
    const w = windowState(now, config.windows);
    switch (config.reboot.strategy) {
      case "off":
        if (now >= nextCheck) return { action: "check", reason: "check interval passed (staged, reboot strategy off)" };
        return wait(`${v} staged; reboot strategy off: waiting for an operator`);
      case "immediate":
        return { action: "reboot", version: v, reason: `${v} staged; strategy immediate` };
      case "window":
        if (w.open) return { action: "reboot", version: v, reason: `${v} staged; window open` };
        wakes.push(w.opensAt!);
        if (now >= nextCheck) return { action: "check", reason: "check interval passed (staged, window closed)" };
        return wait(`${v} staged; window closed until ${iso(w.opensAt!)}`);
      case "coordinated":
        if (!w.open) {
          if (state.lock === "held") return { action: "release-lock", reason: `window closed before the reboot; giving the slot back` };
          wakes.push(w.opensAt!);
          if (now >= nextCheck) return { action: "check", reason: "check interval passed (staged, window closed)" };
          return wait(`${v} staged; window closed until ${iso(w.opensAt!)}`);
        }
        if (state.lock === "held") return { action: "reboot", version: v, reason: `${v} staged; holding a reboot slot` };
        return { action: "acquire-lock", version: v, reason: `${v} staged; window open: asking the fleet for a reboot slot` };
    }
  }

  if (now >= nextCheck) return { action: "check", reason: state.lastCheckAt === undefined ? "never checked" : "check interval passed" };

  if (state.available && bad.has(state.available.version)) return wait(`${state.available.version} is marked bad by the fleet`);
  if (newer) {
    const v = newer.version;
    const startAt = newer.firstSeenAt + jitterMs(input.seed, v, config.jitterSeconds);
    if (now < startAt) {
      wakes.push(startAt);
      return wait(`${v} available; this node's rollout jitter ends ${iso(startAt)}`);
    }
    if (state.downloaded !== v) return { action: "download", version: v, reason: `${v} available` };
    return { action: "stage", version: v, reason: `${v} downloaded` };
  }
  return wait("up to date");
}
