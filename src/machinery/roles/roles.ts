import type { MethodName } from "../../api/index.js";

/** Roles carried in the client certificate's subject O entries. */
export const ROLES = ["os:admin", "os:operator", "os:reader"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

const READER: readonly Role[] = ["os:reader", "os:operator", "os:admin"];
const OPERATOR: readonly Role[] = ["os:operator", "os:admin"];
const ADMIN: readonly Role[] = ["os:admin"];

/**
 * Who may call what, once the node is configured. Keyed on the generated
 * method names, so a new RPC without a rule fails to compile (Record over
 * MethodName), and there is no fallback role.
 *
 * | role     | may call                                                    |
 * |----------|-------------------------------------------------------------|
 * | reader   | read-only calls; Read/Copy of /var/log only; never secrets  |
 * | operator | reader + Reboot, Shutdown, ServiceControl, ContainerRestart |
 * | admin    | everything (ImageImport, ImageRemove among them)            |
 */
export const RULES: Readonly<Record<MethodName, readonly Role[]>> = {
  version: READER,
  applyConfiguration: ADMIN,
  getConfiguration: READER,
  reboot: OPERATOR,
  shutdown: OPERATOR,
  reset: ADMIN,
  upgrade: ADMIN,
  rollback: ADMIN,
  serviceList: READER,
  serviceControl: OPERATOR,
  logs: READER,
  dmesg: READER,
  events: READER,
  stats: READER,
  list: READER,
  // Read and Copy: which paths each role may read is the file policy's
  // job (server/file-policy.ts), enforced on the resolved real path.
  read: READER,
  copy: READER,
  processes: READER,
  memory: READER,
  disks: READER,
  mounts: READER,
  netstat: READER,
  getResources: READER,
  containerList: READER,
  containerLogs: READER,
  // Restarting a workload is like ServiceControl: operators may.
  containerRestart: OPERATOR,
  imageList: READER,
  // Importing or removing images changes what the node can run: admin only.
  imageImport: ADMIN,
  imageRemove: ADMIN,
};

/** Methods served in maintenance mode, before the node has a config or a CA. */
export const MAINTENANCE_METHODS: ReadonlySet<MethodName> = new Set<MethodName>(["version", "applyConfiguration"]);

/** True when any of the caller's roles may call the method. */
export function isAllowed(method: MethodName, roles: readonly string[]): boolean {
  return RULES[method].some((r) => roles.includes(r));
}
