export { ROLES, RULES, MAINTENANCE_METHODS, isAllowed, isRole } from "./roles.js";
export type { Role } from "./roles.js";
