/** A/B upgrades on the node: install, blessing, rollback. */
export { runHealthChecks, waitFor, type HealthCheck, type HealthResult, type HealthStatus, type HealthVerdict } from "./health.js";
export { DEFAULT_BLESS_GRACE_MS, HEALTH_DEADLINE_MS, UNHEALTHY_REBOOT_DELAY_MS, UpgradeService, type UpgradeDeps } from "./upgrade-service.js";
export { restoreSlotConfig, SlotConfigs } from "./slot-config.js";
