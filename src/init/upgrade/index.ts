/** A/B upgrades on the node: install, blessing, rollback. */
export { DEFAULT_BLESS_GRACE_MS, UpgradeService, type UpgradeDeps } from "./upgrade-service.js";
