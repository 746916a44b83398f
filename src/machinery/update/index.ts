/** Unattended updates, the pure parts: maintenance windows and the updater's next-step policy. */
export { jitterMs, nextStep } from "./policy.js";
export type { Action, PolicyInput, Step, UpdaterState } from "./policy.js";
export { windowState } from "./windows.js";
export type { WindowState } from "./windows.js";
