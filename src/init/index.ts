// The node runtime: boots, config, API wiring. Entry points live in cmd/.
export { runNode } from "./node-loop.js";
export { runBoot, type BootOptions, type BootOutcome } from "./boot.js";
export { LogStore } from "./log-store.js";
export { installCrashGuards } from "./pid1-guards.js";
export type { HealthCheck, HealthResult } from "./upgrade/index.js";
