import type { MethodName } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import { MAINTENANCE_METHODS, isAllowed } from "../machinery/roles/index.js";

/** What a handler knows about its caller. */
export interface CallContext {
  readonly method: MethodName;
  readonly roles: readonly string[];
  /** Aborted when the client cancels or disconnects. */
  readonly signal: AbortSignal;
}

/** Decides whether a call may proceed and with which roles; throws a CairnError if not. */
export interface CallGate {
  readonly kind: "maintenance" | "mtls";
  /** `roles` is undefined when the caller presented no verified certificate. */
  admit(method: MethodName, roles: () => readonly string[] | undefined): readonly string[];
}

/** Maintenance: anyone may ask Version or apply the first config; nothing else. */
export const maintenanceGate: CallGate = {
  kind: "maintenance",
  admit(method) {
    if (!MAINTENANCE_METHODS.has(method)) {
      throw new CairnError("PERMISSION_DENIED", `${method} is not available in maintenance mode`, {
        hint: "apply a machine config first: nodectl apply-config --insecure -n NODE -f node.yaml",
      });
    }
    return [];
  },
};

/**
 * Configured: TLS already verified the client certificate against the OS CA
 * (rejectUnauthorized); the roles are the certificate's subject O entries.
 */
export const mtlsGate: CallGate = {
  kind: "mtls",
  admit(method, peerRoles) {
    const roles = peerRoles();
    if (roles === undefined) {
      throw new CairnError("UNAUTHENTICATED", "a client certificate signed by the node's CA is required");
    }
    if (!isAllowed(method, roles)) {
      throw new CairnError("PERMISSION_DENIED", `role ${roles.join(",") || "(none)"} may not call ${method}`);
    }
    return roles;
  },
};
